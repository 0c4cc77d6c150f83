"""How cxstream reads sentiment in comments on government services: VADER's lexicon, adapted.

Stock VADER was built on social-media text. On survey comments about federal services it scores
most complaints 0 (neutral): "on hold", "transferred", "call dropped", "portal down", "took
weeks", "never called back" carry no lexicon word, while the service's own nouns do ("benefits",
"Social Security", "care", "credit", "trust", "relief" are positive words to VADER, "death
certificate" and "disability" negative). Four tables fix that; docs/INSIGHTS.md lists them with
why, and tests/unit/insights/ holds one case per rule.

- :data:`SPELLING`: frequent misspellings and shorthand, rewritten before anything reads the text.
- :data:`LEXICON`: single words VADER lacks or misreads here (valence on VADER's -4..4 scale).
- :data:`PHRASES`: multi-word service phrases, each replaced by a token of its valence before
  VADER scores the comment, so VADER's own rules (boosters, "but", "!", negation in front of the
  phrase: "wasn't on hold long") still apply to it. Phrases that carry their own negation
  ("no wait", "never called back", "didn't have to wait") are written whole, so the negator is
  read once. The alternation is tried left to right at each position: longer and negated forms
  come first.
- :data:`SARCASM_OPENERS`: "great, ..." / "love being ..." count against the comment when the
  rest of it is negative ("great, another 3 hours on hold"), and as VADER reads them otherwise.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Phrase(NamedTuple):
    pattern: str  # a regular expression, matched case-insensitively on word boundaries
    valence: float  # VADER scale: -4..4; 0 neutralises the words (they are no longer read)
    why: str


#: Misspellings and shorthand seen in survey comments -> the word VADER and the taxonomy know.
SPELLING: Final[dict[str, str]] = {
    "wated": "waited", "waitng": "waiting", "agnet": "agent", "helpfull": "helpful", "excelent": "excellent",
    "recieved": "received", "recieve": "receive", "cancled": "cancelled", "canceled": "cancelled",
    "webiste": "website", "websit": "website", "serviec": "service", "sesion": "session", "realy": "really",
    "appt": "appointment", "appts": "appointments", "u": "you", "ur": "your", "ty": "thank you",
    "thx": "thanks", "tks": "thanks", "pls": "please", "plz": "please", "hrs": "hours", "hr": "hour",
    "mins": "minutes", "min": "minutes", "cant": "can't", "didnt": "didn't", "dont": "don't",
    "doesnt": "doesn't", "isnt": "isn't", "wasnt": "wasn't", "couldnt": "couldn't", "wouldnt": "wouldn't",
    "havent": "haven't", "hasnt": "hasn't", "wont": "won't", "definately": "definitely",
    "rediculous": "ridiculous", "horible": "horrible", "terible": "terrible", "beurocracy": "bureaucracy",
}

#: Single words, valence on VADER's scale. 0 = not an opinion in this domain (the service's nouns).
LEXICON: Final[dict[str, float]] = {
    # speed: VADER has no entry for the words customers use most about time
    "fast": 1.5, "faster": 1.5, "fastest": 1.5, "quick": 1.5, "quicker": 1.5, "quickly": 1.3, "speedy": 1.5,
    "prompt": 1.3, "promptly": 1.3, "timely": 1.3, "efficiently": 1.5, "slow": -1.5, "slower": -1.3,
    "slowly": -1.0, "late": -1.0, "delays": -1.3, "backlog": -1.2, "understaffed": -1.2, "forever": -1.0,
    # ease and the digital channels
    "smooth": 1.8, "smoothly": 1.8, "smoother": 1.5, "seamless": 2.0, "simple": 1.2, "simpler": 1.2,
    "straightforward": 1.5, "intuitive": 1.5, "hassle": -1.5, "nightmare": -2.5, "maze": -1.2,
    "convoluted": -1.5, "glitch": -1.5, "glitchy": -1.5, "buggy": -1.5, "outage": -1.5, "crashed": -1.8,
    "crashes": -1.8, "crashing": -1.8, "froze": -1.5, "freezes": -1.5, "freezing": -1.5, "frozen": -1.2,
    "confusing": -1.3, "overwhelming": -1.2,
    # outcome
    "fixed": 1.5, "resolved": 1.8, "solved": 1.8, "sorted": 1.0, "accurate": 1.2, "correct": 1.0,
    "denial": -1.9, "cancelled": -1.5, "misspelled": -1.5, "unanswered": -1.5, "disconnected": -1.5,
    "overpaid": -1.0, "owe": -1.0, "impossible": -1.5, "helped": 1.5, "explained": 1.2,
    # people
    "polite": 1.8, "professional": 1.3, "knowledgeable": 1.5, "listened": 1.2, "unhelpful": -1.8,
    "dismissive": -1.8, "condescending": -2.0, "unprofessional": -2.0, "rushed": -1.2, "judged": -1.5,
    "shouting": -1.8, "yelling": -1.8, "yelled": -1.8, "runaround": -1.8, "inefficient": -1.8,
    # lukewarm: in a survey "ok" / "fine" is the middle of the scale, not praise
    "ok": 0.0, "okay": 0.0, "fine": 0.0, "alright": 0.0,
    # the service's own nouns, not opinions
    "benefit": 0.0, "benefits": 0.0, "security": 0.0, "credit": 0.0, "credits": 0.0, "care": 0.0,
    "trust": 0.0, "relief": 0.0, "support": 0.0, "united": 0.0, "interest": 0.0, "honor": 0.0,
    "emergency": 0.0, "death": 0.0, "died": 0.0, "dead": 0.0, "deceased": 0.0, "debt": 0.0, "sick": 0.0,
    "fraud": 0.0, "free": 0.0, "disabled": 0.0, "dementia": 0.0, "widow": 0.0, "cancer": 0.0,
    "pay": 0.0, "guarantee": 0.0, "please": 0.0, "honestly": 0.0, "pretty": 0.0, "sure": 0.0, "yeah": 0.0, "god": 0.0,
    # "like" is mostly a preposition in comments ("felt like hours", "would like to know"); the
    # verb is read by the phrase "i like" / "we like"
    "like": 0.0,
}

#: Dampeners and boosters VADER lacks ("pretty slow" is not praise).
BOOSTERS: Final[dict[str, float]] = {"pretty": 0.293, "super": 0.293, "way": 0.293}

#: Negators VADER lacks: "nobody fixes it".
NEGATORS: Final[tuple[str, ...]] = ("nobody", "noone", "no-one")

#: Words whose second half outweighs the first ("helpful agent, but ..."), as VADER's "but".
CONTRASTS: Final[tuple[str, ...]] = ("but", "however")

_N = r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|" \
     r"fifty|ninety|several|few|a few|many|couple|a couple of)"
_SMALL = r"(?:[1-9]|1[0-4]|an?|one|two|three|four|five|six|seven|eight|nine|ten|a few|few|a couple of)"
_CANT = r"(?:can't|cannot|can not|couldn't|could not|unable to|wasn't able to|was not able to|not able to|never able to)"

#: Service phrases -> valence. Order matters (see the module's docstring).
PHRASES: Final[tuple[Phrase, ...]] = (
    # --- idioms whose words VADER reads the wrong way round
    Phrase(r"can't say enough good things|cannot say enough good things", 2.5, "praise VADER negates (can't ... good)"),
    Phrase(r"(?:couldn't|could not|can't|cannot) (?:have been|be|get) (?:any )?(?:easier|better|faster|smoother|simpler)",
           2.5, "praise VADER negates"),
    Phrase(r"(?:couldn't|could not|can't|cannot) (?:ask|have asked) for (?:more|better|anything more)|can't complain|"
           r"cannot complain|nothing to complain about|no complaints?", 2.0, "praise VADER negates"),
    Phrase(r"never made (?:me )?(?:to )?feel rushed|(?:didn't|did not|never) (?:feel|felt) rushed|never rushed (?:me|us)",
           1.5, "negation further than VADER's three words"),
    Phrase(r"not what i expected|nothing (?:special|fancy|to write home about)", 0.0, "lukewarm, not blame"),
    Phrase(r"drop(?:ped|ping)? off|pick(?:ed|ing)? up", 0.0, "errands ('drop' is negative to VADER)"),
    Phrase(r"(?:i )?wish(?:ed)? (?:the|it|they|you|there|someone|somebody|that|i|we|my)", -1.0,
           "a wish for a change names something missing"),
    Phrase(r"(?:was|were|very|so) understanding", 1.5, "'understanding' the adjective"),
    Phrase(r"(?:got|found|had|get) (?:what|everything|all) (?:i|we) needed|got (?:it|everything) (?:done|sorted)",
           1.5, "the need met"),
    Phrase(r"no (?:surprises?|hassle|trouble|issues?|problems?)|zero hassle|without (?:a |any )?(?:hassle|problem|issue)s?|"
           r"never had (?:an?|any) (?:issue|problem)s?", 1.5, "'no' + a problem word: praise"),
    Phrase(r"hard to get a straight answer|never (?:get|got) a straight answer|(?:can't|cannot|couldn't) get a straight answer",
           -2.0, "a complaint built from a positive phrase"),
    Phrase(r"(?:gave me|got|get) a straight answer|got (?:my|an) answer|answered (?:all )?(?:of )?my questions?",
           1.5, "the need met"),
    Phrase(r"thanks? (?:you )?(?:a lot |so much )?for (?:nothing|losing|wasting|ignoring|the runaround|hanging up)",
           -2.5, "sarcastic thanks"),
    Phrase(r"yeah,? right", -2.0, "sarcasm (VADER's own idiom, which it only reads next to a sentiment word)"),
    Phrase(r"(?:went|goes|go) above and beyond", 2.5, "praise"),
    Phrase(r"took care of|taking care of|takes care of|take care of", 1.5, "praise ('care' is neutral alone)"),
    Phrase(r"life ?saver|meant a lot|means a lot", 2.0, "praise"),
    Phrase(r"(?:try|tries|tried|work|works|worked|working) (?:so |really |very )?hard", 1.0, "effort, not difficulty"),
    # --- time (efficiency)
    Phrase(r"no wait(?:ing)?(?: time)?|(?:didn't|did not|never|don't|do not) (?:have|had|need|needed) to wait|"
           r"(?:wasn't|was not|isn't|is not|not) (?:a )?long(?: wait)?|short wait|wait was short|no line|no lines",
           1.8, "no waiting is praise"),
    Phrase(r"waiting room|waiting area|wait list|waitlist", 0.0, "a place or a list, not a wait"),
    Phrase(r"(?:on|put (?:me |us )?on) hold|hold music|hold times?", -1.5, "being on hold"),
    Phrase(r"still (?:waiting|pending|processing|in process|in the queue)|in the queue", -1.8, "no progress"),
    Phrase(r"still(?= (?:no|not|nothing|hasn't|has not|haven't|have not|missing|can't|cannot|don't|do not|doesn't|"
           r"unresolved|broken|wrong|no one|nobody)\b)", -1.0, "'still' before a negation: an unmet expectation"),
    Phrase(r"took (?:so |too |very )?long|takes (?:so |too )?long|taking (?:so |too )?long|(?:took|takes|taking) forever|"
           r"(?:so|too|very|such a) long(?: time)?|long wait|long line|long lines|long time", -1.8, "slowness"),
    Phrase(r"(?:\d+|two|three|four|five|six) (?:hours?|hrs?)|(?:an?|one|few|several|many|couple of) (?:full )?hours?|"
           r"all (?:day|morning|afternoon)|entire (?:day|morning|afternoon)|whole (?:day|morning|afternoon|lunch break)",
           -1.8, "hours lost on a government errand"),
    Phrase(r"(?:within|in (?:under |less than )?)" + _SMALL + r" (?:minutes?|days?)|within (?:a|one|the) (?:day|week|hour)|"
           r"(?:took|takes|take)(?: me)?(?: only| just| about| maybe| less than| under)? " + _SMALL + r" minutes?|"
           r"(?:less than|under|only|just) " + _SMALL + r" (?:minutes?|days?)|in minutes|right away|immediately|"
           r"same (?:day|week)|next day|in no time|(?:right )?on time|on schedule|on the right day|in and out|in (?:a|one) week|"
           r"(?:didn't|did not|doesn't|does not|won't|will not|wasn't|was not) take (?:too |very |that )?long", 1.5, "speed"),
    Phrase(_N + r" (?:more )?months?|over a month|(?:in|after|took|for) a month|(?:over|more than|for) a year|a year ago|"
           r"(?:[3-9]\d|\d{3,}) days|for (?:months|years)|months (?:later|ago)", -1.5, "months of waiting"),
    Phrase(r"(?:took|taking|for|after|over|than) (?:\w+ ){0,2}?weeks|weeks late|weeks to", -1.2, "weeks of waiting"),
    Phrase(r"for (?:over |more than |almost )?" + _N + r" minutes", -1.0, "minutes counted are minutes lost"),
    Phrase(r"transferred|bounced (?:around|between)|passed around|sent (?:back and forth )?between|run-?around|run around",
           -1.5, "being passed between people"),
    Phrase(r"(?:call|line|calls) (?:got |was |were |gets |keeps getting )?(?:dropped|disconnected|cut off)|"
           r"(?:got|get|was) (?:dropped|disconnected|cut off)|hung up|hangs up|hang up", -1.8, "a lost call"),
    Phrase(_CANT + r" (?:ever )?get through|never get through|call volume|busy signal", -1.8, "an unreachable line"),
    Phrase(r"(?:no one|nobody|never|not|didn't|did not|hasn't|has not|haven't|have not|won't|will not) (?:ever )?"
           r"(?:called|call|calls|got|get|gets|getting|gotten|came) (?:me |us )?back|no (?:call ?back|callback|return call)|"
           r"(?:never|haven't|have not|hasn't|has not) heard (?:anything |back|a word)|heard nothing|"
           r"(?:no one|nobody) (?:ever )?(?:answers|answered|picks up|picked up|responds|responded|replies|replied)|"
           r"never (?:answers|answered|responds|responded|replies|replied)|go(?:es)? unanswered|"
           r"no (?:reply|response|answer|updates?|word)", -1.8, "no answer, no call back"),
    Phrase(r"(?:called|calls|call) (?:me |us )?back|returned my calls?|got back to me|answered (?:the phone )?"
           r"(?:right away|quickly|immediately|in minutes|on the first ring)", 1.2, "an answer came"),
    # --- outcome (effectiveness)
    Phrase(r"nothing (?:worked|works|happened|changed)|nothing (?:they|you|anyone) (?:can|could) do|"
        r"for nothing", -2.0, "no result"),
    Phrase(r"(?:never|didn't|did not|haven't|have not|hasn't|has not) (?:\w+ )?(?:arrived|came|come|received|gotten)|"
           r"never got (?:it|my|the|paid|a)|(?:didn't|did not|never) get paid|(?:is|are|was) not here|still not here",
           -1.8, "what was promised did not come"),
    Phrase(r"(?:lost|losing|misplaced) (?:my|our|his|her|the) (?:\w+ )?(?:file|records?|documents?|paperwork|application|"
           r"forms?|dd-?214|bonds?|mail)", -2.0, "the agency lost the customer's papers"),
    Phrase(r"spelled wrong|wrong (?:name|date|birth ?date|amount|address|information|info|answer)|old (?:address|house)|"
           r"by mistake|charged twice|double charged", -1.8, "an error in the outcome"),
    Phrase(r"(?:benefits?|payments?|checks?) (?:stopped|were cut|was cut|got cut|cut off)|cut my (?:benefits?|payments?)|"
           r"returned as incomplete|blaming each other|pointing fingers|in circles", -1.8, "the need not met"),
    Phrase(r"(?:i|we) (?:was|were) able to|able to do (?:it|everything|it all)|one (?:visit|phone call|call|reply)|"
        r"first (?:call|try|visit)",
           1.2, "done with little effort"),
    # --- ease, the digital channels
    Phrase(_CANT + r" (?:\w+ )?(?:log ?in|login|sign in|sign on|find|upload|reach|access|create|figure|submit|download|open|pay|"
           r"complete|finish|read|see|get in)", -1.5, "a task that could not be done"),
    Phrase(r"(?:hard|difficult|impossible|tough) to (?:use|find|navigate|understand|figure|read|reach|get|follow|know)",
           -1.5, "'hard' is nearly neutral to VADER"),
    Phrase(r"(?:timed|times|timing|time) out|session expired|(?:logged|logs|kicked|kicks) (?:me |us )?out", -1.8, "lost work"),
    Phrase(r"(?:was|is|are|were|went|goes|keeps going|been) down\b|(?:portal|site|website|system|app|server)s? (?:\w+ )?down|"
           r"(?:down|offline) (?:again|all|for)", -1.8, "an outage"),
    Phrase(r"(?:not|isn't|wasn't|doesn't|didn't|don't|won't|wouldn't|stopped|never) (?:\w+ )?(?:working|work|works|load|loads|"
           r"accept|accepts|read|let me)", -1.8, "a broken tool"),
    Phrase(r"(?:same|the same) (?:information|info|questions?|documents?|paperwork|forms?|pay stubs)|start(?:ed)? over|"
           r"all over again|had to (?:mail|send|submit|upload|resend|fax|print|drive|re-?enter|repeat)",
           -1.2, "work done twice"),
    Phrase(_N + r" (?:more )?times|twice|over and over", -1.0, "repetition: tries, calls, visits"),
    Phrase(r"(?:is|was|it's) a mess|what a mess", -2.0, "disorder"),
    # --- clarity (transparency)
    Phrase(r"no (?:idea|clue|explanation|information|info|details?)|without (?:any )?(?:explanation|notice|warning)|"
           r"(?:made|makes|make) no sense|(?:doesn't|does not|didn't|did not) make (?:any )?sense",
           -1.8, "nothing was explained"),
    Phrase(r"(?:doesn't|does not|didn't|did not|don't|do not|won't|will not|never|wasn't|weren't|was not|were not) "
           r"(?:\w+ )?(?:say|says|tell|told|explain|explained|mention|mentioned|inform|informed|know|understand|notify|notified)|"
           r"(?:nobody|no one) (?:\w+ )?(?:told|tells|explains|explained|knows|knew|can|could|will|would|seemed|seems|"
           r"helped|helps)",
           -1.5, "not told, not explained"),
    Phrase(r"different (?:things|answers|information)|conflicting|contradict\w*", -1.5, "inconsistent answers"),
    Phrase(r"kept (?:me|us) (?:informed|updated|posted)|told me (?:exactly|what|everything)|explained (?:exactly|everything|"
        r"each|why|what|how|my|it)|"
           r"plain language|step by step|the truth", 1.5, "things made clear"),
    # --- people (humanity, employee)
    Phrase(r"(?:like|as if) (?:i was |i were |we were )?an? (?:criminal|number|suspect|liar|child|idiot|burden|nuisance|cattle)|"
           r"like a number", -2.0, "not treated as a person"),
    Phrase(r"like (?:a|an) (?:person|human(?: being)?)|like family|not (?:just )?a number", 1.8, "treated as a person"),
    Phrase(r"felt (?:heard|valued|respected|welcome)|took (?:the )?time to|(?:called|call) to apologi[sz]e|apologi[sz]ed",
           1.5, "regard for the customer"),
    Phrase(r"(?:was|were|so|very|extremely|really) patient", 1.8, "'patient' the adjective, not the clinic's patient"),
    Phrase(r"(?:i|we) (?:really |do |really do )?like(?! to)", 1.5, "the verb 'like' (the word alone is neutral)"),
    Phrase(r"(?:help|customer service|support|information) (?:line|desk|center|centre|text|page)|(?:for|need|get|ask for|"
        r"asking for) help",
           0.0, "'help' the service, not help received"),
    Phrase(r"toll[- ]free|free file|free of charge|social security|united states|tax credits?|health care|care team|"
           r"child support|disaster relief|thank you letter", 0.0, "names of things"),
)

#: Openers that turn with the comment: "great, another 3 hours on hold". The opener's own valence
#: when the rest is not negative, SARCASM_VALENCE when it is.
SARCASM_OPENERS: Final[str] = (
    r"(?:^|(?<=[.!?]\s))(?:oh,? |just |well,? |yeah,? |sure,? )?(?:great|wonderful|perfect|fantastic|awesome|lovely|"
    r"terrific|brilliant|nice|super|sure|excellent|amazing)\s*[,.!]+(?=\s*\w)"
    r"|\b(?:i )?(?:just )?(?:love|loved|enjoy|enjoyed|adore)(?= (?:being|spending|waiting|sitting|listening|getting|having to|"
    r"hearing|how|it when|that i have to)\b)"
)
SARCASM_VALENCE: Final[float] = -1.5
