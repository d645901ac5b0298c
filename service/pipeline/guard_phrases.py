"""The input guard's signal names and phrase patterns, in English and Chinese.

Patterns are general shapes (a verb and what it targets), not sentences from any dataset, and
ordinary customer wording must stay clear of them: "ignore my previous order", "repeat the refund
steps", "我忘记密码了怎么办". A *strong* pattern is an unambiguous attempt (override the
instructions, extract the prompt, a secret or other people's data, switch on a jailbreak "mode");
a *weak* one is suspicious but has innocent readings ("ignore the above", role play).
`PHRASES` see the normalised, lower-cased question; `CASED_PHRASES` see its letter case.

The phrases stay on Python's engine, not RE2: "tell me how to reset the passcode" is help, not an
attack, and saying so takes negative lookahead (`_NOT_HELP`, `_NOT_HOW`), which RE2 lacks. They
are linear instead by shape: whitespace is collapsed before matching (so `\\s+` reads one space),
every gap between words is bounded, the guard reads at most `max_chars` + 1 characters, and
`tests/safety/test_redos.py` times each one on adversarial text. The one pattern that was not
(the fake dialogue's two 600-character gaps) is the linear scanner `FakeDialogue`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple, Protocol


class GuardSignal(StrEnum):
    """Closed set of signal names (safe as log fields and span attributes)."""

    IGNORE_INSTRUCTIONS = "ignore_instructions"
    PROMPT_EXTRACTION = "prompt_extraction"
    SECRET_REQUEST = "secret_request"
    DEVELOPER_MODE = "developer_mode"
    DATA_EXFILTRATION = "data_exfiltration"
    ROLE_PLAY = "role_play"
    FAKE_DIALOGUE = "fake_dialogue"
    ENCODED_PAYLOAD = "encoded_payload"
    INVISIBLE_CHARS = "invisible_chars"
    HOMOGLYPHS = "homoglyphs"
    EMBEDDED_MARKUP = "embedded_markup"
    OVERSIZED = "oversized"
    REPETITIVE = "repetitive"
    PII = "pii"


class Matcher(Protocol):
    def search(self, text: str, /) -> object | None: ...


class Phrase(NamedTuple):
    signal: GuardSignal
    strong: bool
    pattern: Matcher


S = GuardSignal
_VERB = (
    r"(?:ignore|disregard|forget|overlook|neglect|bypass|override|skip|abandon|discard|set aside"
    r"|pay no attention to|do not follow|don't follow|stop following|no longer follow)"
)
_DET = (
    r"(?:all|any|every|each|of|about|the|your|these|those|that|this|previous|prior|above|earlier"
    r"|preceding|former|original|initial|existing|old|given|system|safety|such|other|current)"
)
_SAY = r"(?:say|state|print|write|output|respond|reply|repeat|answer|declare|claim|tell|give|list)"
_SECRET = (  # "the secret to faster shipping" is not one: a bare "secret" needs "your"/"our"
    r"(?:password|passphrase|passcode|pass code|secret (?:key|code|word|phrase)|api key"
    r"|access key|private key|credentials|confidential (?:string|info(?:rmation)?|data))"
)
_NOT_HELP = r"(?!\s*(?:reset|recovery|change|requirements?|policy|rules|link|page|email|expir))"
_TELL = (
    r"(?:what(?:'s| is| are)|tell me|give me|share|reveal|confirm|provide|send|disclose|spell"
    r"|type|print|write|output|leak)"
)
_NOT_HOW = r"(?:(?!\bhow\b)[^.?!\n]){0,30}?"  # "tell me how to reset the passcode" is help
_ENCODINGS = r"(?:leetspeak|pig latin|base64|morse|reversed? order|backwards|binary|hex)"
_ZH_IGNORE = r"(?:忽略|无视|忽视|不要理会|别管|忘记|忘掉|抛开|跳过|绕过|不要遵守|不用遵守|停止遵守)"
_ZH_BEFORE = (
    r"(?:掉|你|您|之前|以前|先前|上面|上述|以上|前面|此前|原有|原来|原先|的|所有|全部|一切|收到"
    r"|得到)"
)
_ZH_TELL = r"(?:告诉我|给我|提供|透露|说出|输出|确认|分享)"
_PII_NOUNS = r"(?:出生日期|生日|住址|家庭住址|现居城市|居住城市|电子邮件地址|邮箱地址|银行余额)"

_TABLE: tuple[tuple[GuardSignal, bool, str], ...] = (
    # Override the instructions.
    (S.IGNORE_INSTRUCTIONS, True, rf"\b{_VERB}\b(?:\s+{_DET}\b){{0,5}}\s+(?:instructions?"
     r"|directives?|prompts?|programming|training|guidelines|system message)\b"),
    (S.IGNORE_INSTRUCTIONS, False, rf"\b{_VERB}\b(?:\s+{_DET}\b){{0,5}}\s+(?:rules|polic(?:y|ies)"
     r"|restrictions|constraints|guidance|commands|context|ever?ything|all that)\b"),
    (S.IGNORE_INSTRUCTIONS, True, rf"\b{_VERB}\b.{{0,30}}\byou(?:'ve| have)? been (?:told|"
     r"instructed|taught|programmed|given)|\bforget (?:everything|all) you know\b"),
    (S.IGNORE_INSTRUCTIONS, False, r"\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?"
     r"(?:the\s+|everything\s+)?above\b"),
    (S.IGNORE_INSTRUCTIONS, True, r"\b(?:ignore|disregard|forget)\s+(?:the|this|that|these|those"
     rf"|all|any|everything|previous|prior)\b[^.!?\n]{{0,40}}?\band\s+(?:instead\s+)?{_SAY}\b"),
    (S.IGNORE_INSTRUCTIONS, True, r"\b(?:regardless of|instead of following|without following)"
     r"\s+(?:your\s+|the\s+|any\s+|all\s+)?(?:previous|prior|above|original|system)\s+(?:tasks?"
     r"|instructions?|rules|directives?|prompts?)"),
    (S.IGNORE_INSTRUCTIONS, False, r"\b(?:output|print|state|say|repeat|respond with|reply with)"
     r"\s+(?:only\s+)?(?:the following|exactly|verbatim)\b"),
    (S.IGNORE_INSTRUCTIONS, True, rf"{_ZH_IGNORE}{_ZH_BEFORE}{{0,4}}(?:指令|指示|提示词?|设定"
     r"|规则|限制|约束|命令|规定)"),
    (S.IGNORE_INSTRUCTIONS, False, rf"{_ZH_IGNORE}{_ZH_BEFORE}{{0,4}}(?:说明|内容|要求)"
     r"|(?:忘记|忘掉|抛开)(?:之前|以前|以上|上面)?的?(?:一切|所有)"),
    (S.IGNORE_INSTRUCTIONS, True, r"(?:忽略|无视)(?:以上|上面|上述|之前)(?:的|所有|全部)*"
     r"(?:内容|说明)?[，,。 ]*(?:并|然后|再|而是)?(?:说|输出|告诉|给我|回答|声明|写)"),
    # Extract the prompt.
    (S.PROMPT_EXTRACTION, True, r"\b(?:repeat|print|reveal|output|recite|dump|leak|disclose"
     r"|expose|spell out|regurgitate|show me|display|tell me|give me|share)\b[^.?!\n]{0,30}?"
     r"\byour\s+(?:[a-z]+\s+){0,3}?(?:prompt|instructions|directives|guidelines|rules"
     r"|system message|configuration)\b"),
    (S.PROMPT_EXTRACTION, True, r"\b(?:the|your) (?:(?:system|initial|original|hidden|secret"
     r"|internal|full)\s+)+(?:prompt|instructions|message)\b|\bwhat (?:is|was) your prompt\b"
     r"|\b(?:repeat|print|output|copy) (?:all |everything |the (?:text|words) )?above\b"),
    (S.PROMPT_EXTRACTION, True, r"(?:重复|输出|打印|告诉我|显示|透露|泄露|说出|给我看|展示|列出"
     r"|复述|背诵)(?:一下|一遍)?(?:你的|您的|系统的?)(?:系统)?(?:提示词?|指令|设定|规则|初始"
     r"|原始|隐藏|内部|系统消息|prompt)|(?:你的|您的)(?:系统)?(?:提示词|指令|设定)是什么"
     r"|系统提示词?"),
    # Ask for a secret.
    (S.SECRET_REQUEST, True, rf"\b{_TELL}\b{_NOT_HOW}\b(?:your|our|the|(?:the|this) system'?s?)"
     rf"\s+(?:[a-z]+\s+){{0,2}}?{_SECRET}\b{_NOT_HELP}"),
    (S.SECRET_REQUEST, True, rf"\b(?:your|our)\s+(?:system'?s?\s+)?(?:{_SECRET}|secret)\b"
     rf"{_NOT_HELP}|\b(?:password|passphrase|secret)s? (?:for|of|to) (?:our|your|the) system\b"),
    (S.SECRET_REQUEST, True, r"\b(?:poem|haiku|acrostic|song|story|riddle|limerick|first "
     r"letters?)\b[^.?!\n]{0,40}?\b(?:the|your|our)\s+(?:password|passphrase|secret)\b"
     rf"|\b(?:the|your|our)\s+(?:password|passphrase|secret)\b[^.?!\n]{{0,20}}?\b(?:in|into"
     rf"|as|using)\s+{_ENCODINGS}"),
    (S.SECRET_REQUEST, True, r"(?:你的|您的|系统的?)(?:秘密|秘密钥|秘钥|密钥|口令|暗号)"
     r"|(?:你的|您的|我们系统的?)密码|(?:^|[\s。，,.!?！？:：])(?:密码|秘密|秘密钥|密钥|口令)是什么"),
    (S.SECRET_REQUEST, True, rf"你(?:能|可以|能不能|会)?{_ZH_TELL}[^。！？\n]{{0,8}}?密码"
     r"(?!怎么|如何|在哪|要求|规则|格式|重置|找回|修改)"
     r"|用(?:猪拉丁|pig latin|base64|摩斯|倒序|反序|藏头诗)[^。！？\n]{0,10}密码"),
    # Switch on a jailbreak "mode", or claim no rules apply.
    (S.DEVELOPER_MODE, True, r"\b(?:developer|dev|god|system|maintenance|debug|admin"
     r"|administrator|root|sudo|override|unrestricted|jailbreak|jailbroken|evil)\s+mode\b"
     r"|<\s*(?:system|god|admin|developer)\b|\bjailbr(?:eak|oken)\b|\bdo anything now\b"),
    (S.DEVELOPER_MODE, True, r"\b(?:security|system|developer|admin)\s+override\b|\boverride "
     r"(?:confirmed|activated)\b|\bas an ai (?:developed|created|made|built) by\b|\bbroken? free"
     r" of\b|\b(?:do not|don't) have to (?:abide by|follow|obey)\b|\b(?:not|no longer) (?:bound"
     r"|restricted|limited) by\b"),
    (S.DEVELOPER_MODE, False, r"\b(?:no|without)\s+(?:any\s+|special\s+)?(?:filter(?:s|ing)?"
     r"|censorship|content polic(?:y|ies)|safety (?:rules|guidelines))\b"),
    (S.DEVELOPER_MODE, True, r"(?:开发者|开发|系统|维护|上帝|调试|管理员|越狱|覆盖)模式|<系统"
     r"|越狱|不受任何限制|打破[^。！？\n]{0,8}限制|不必遵守|系统重置"),
    # Other people's data.
    (S.DATA_EXFILTRATION, True, r"\b(?:list|database|records|details|information|emails?"
     r"|balances?) of (?:all |the |other |every )?(?:users|customers|employees|members|clients)\b"
     r"|\b(?:other|all|every|different) (?:users?|customers?|employees?|clients?)(?:'s?)?\s+"
     r"(?:data|information|info|details|records|emails?|addresses|passwords|balances?"
     r"|socioeconomic)"),
    (S.DATA_EXFILTRATION, True, r"\b(?:print|dump|export|show me|give me|send me|leak) (?:your"
     r"|the|the whole|the entire|all) (?:database|user data|employee data|customer data"
     r"|user table)\b|\b(?:users|customers) in your (?:database|system|records)\b"),
    (S.DATA_EXFILTRATION, True, r"(?:所有|其他|全部|不同)(?:用户|客户|员工|会员)的[^。！？\n]{0,8}?"
     r"(?:数据|信息|资料|邮箱|地址|密码|余额|电话|状况|生日|出生日期)|你的数据库"),
    (S.DATA_EXFILTRATION, False, r"\bthe user'?s\s+(?:[a-z]+\s+){0,2}?(?:name|email|address"
     r"|birth|phone|initials|favou?rite|password|location|city|residence|balance|data|details"
     r"|age)|\bwhere (?:does|do|did) the user (?:currently |now )?live"),
    (S.DATA_EXFILTRATION, False, rf"{_ZH_TELL}[^。！？\n]{{0,6}}?[\u4e00-\u9fff]{{2,4}}的"
     rf"{_PII_NOUNS}|用户(?:的)?{_PII_NOUNS}"),
    # Role play and impersonation.
    (S.ROLE_PLAY, False, r"\byou(?:'re| are) now (?:a|an|the|my|called|named|in|playing|acting"
     r"|dan)\b|\bfrom now on,? you(?:'re| are| will)\b|\byou(?:'re| are) no longer\b"
     r"|\bact\s+as\s+(?:a|an|if|my|the|though)\b|\bpretend\s+(?:to be|you(?:'re| are)"
     r"|that you)\b|\brole[- ]?play|\bimmerse yourself\b|\bin the role of\b"
     r"|\bstay in character\b"),
    (S.ROLE_PLAY, False, r"\b(?:imagine|suppose) (?:that )?(?:you|we)(?:'re| are| were)\b|\bin a"
     r" (?:hypothetical|fictional|parallel|alternate|dystopian|futuristic) (?:world|scenario"
     r"|universe|society|future)\b|\bfor a hypothetical (?:discussion|conversation|scenario)\b"),
    (S.ROLE_PLAY, False, r"\b(?:i am|i'm|this is) (?:your|the) (?:developer|creator|maker"
     r"|maintainer|programmer|operator|boss|god|president)\b|\bas your (?:creator|developer"
     r"|boss|administrator|admin|maker|owner)\b|\bi(?: am|'m) god\b"),
    (S.ROLE_PLAY, False, r"你现在是|从现在(?:开始|起)[，,]?你|(?:你|您|请)[^。！？\n]{0,4}扮演"
     r"|扮演(?:一个|一名|成)|假装(?:你是|成)|角色扮演|充当"
     r"|沉浸在.{0,12}角色|假设你是|想象(?:一下)?[，,]?(?:你是|我们)|假设我们"
     r"|我是(?:上帝|你的(?:开发者|创造者|主人|管理员|老板))"),
    # Hidden or assembled payloads, fake conversations, pasted web pages.
    (S.ENCODED_PAYLOAD, False, r"\b(?:decode|decipher|decrypt|translate)\b[^.?!\n]{0,30}\b(?:rot13"
     r"|caesar|cipher|morse|base64|hexadecimal|binary)\b|(?:解码|解密)[^。！？\n]{0,10}(?:base64"
     r"|摩斯|密文|十六进制|二进制)"),
    (S.ENCODED_PAYLOAD, False, r"\b(?:combine|interlace|concatenate|join|put together)\b[^.?!\n]"
     r"{0,40}\b(?:parts?|strings?|pieces)\b|\b[a-z]\s*=\s*[a-z]\s*\+\s*[a-z]\b"),
    (S.EMBEDDED_MARKUP, False, r"<!--|<\s*(?:html|body|script|iframe|caption)\b"),
)  # fmt: skip

_CASED_TABLE: tuple[tuple[GuardSignal, bool, str], ...] = (
    (S.ROLE_PLAY, False, r"\bDAN\b"),  # upper case only: Dan is a name
    (S.DATA_EXFILTRATION, False, r"\b[A-Z][a-z]+(?:'s|’s) (?:birth ?date|date of birth|birthday"
     r"|home address|bank balance|city of residence|current city|favou?rite colou?r"
     r"|email address)|\bwhere (?:does|did) [A-Z][a-z]+(?: [A-Z][a-z]+)? (?:currently |now )?"
     r"live\b"),
)  # fmt: skip


class FakeDialogue:
    """A pasted conversation, "q: … a: … q: …", each gap 1-600 characters: a linear scan.

    As one regex (two lazy 600-character gaps between role markers) this cost ~150 ms on a
    2,000-character question: every marker restarted both gaps. Here the role markers are found
    once, left to right, and only the latest of each role matters: a gap has an upper bound
    only, so the nearest earlier marker is the one most likely to be in range.
    """

    MAX_GAP = 600
    _MARKER = re.compile(
        r"(?<![^\s。])(?:(?P<q>question|q|user|human|问)|(?:answer|assistant|a|ai|bot|答))"
        r" {0,3}[:：]"
    )

    def search(self, text: str, /) -> bool | None:
        question_end = answer_end = -1  # where the latest usable marker of each role ended
        for marker in self._MARKER.finditer(text):
            gap_end = marker.start() - 1  # the separator before a marker closes the gap
            if marker.group("q") is not None:
                if answer_end >= 0 and self._in_range(answer_end, gap_end):
                    return True
                question_end = marker.end()
            elif question_end >= 0 and self._in_range(question_end, gap_end):
                answer_end = marker.end()
        return None

    def _in_range(self, end: int, gap_end: int) -> bool:
        return 1 <= gap_end - end <= self.MAX_GAP


PHRASES = (  # on lower case, whitespace collapsed
    *(Phrase(s, strong, re.compile(p)) for s, strong, p in _TABLE),
    Phrase(S.FAKE_DIALOGUE, False, FakeDialogue()),
)
CASED_PHRASES = tuple(Phrase(s, strong, re.compile(p)) for s, strong, p in _CASED_TABLE)
