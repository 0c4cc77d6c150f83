"""Which A-11 drivers a comment talks about: cxstream's phrase taxonomy.

The drivers are those of the current A-11 form's checklists (docs/A11.md, ``vocabulary.DRIVERS``).
A driver is *talked about* whether the comment praises or blames it: "rude", "not rude" and "the
clerk was kind" are all humanity; "no wait" and "three hours on hold" are both efficiency. So the
cues are topics, not opinions, and a negation never removes a driver; the sentiment score says
which way the comment leans. Each driver's cues are regular expressions matched on the lower-cased
comment (spelling fixed, redaction placeholders removed) between word boundaries; docs/INSIGHTS.md
has the table.

``other`` is never returned: on the form it is the respondent's own "none of these", and a
comment about a topic outside the six (parking, fees, policy) is better left without a driver
than labelled with a guess.
"""

from __future__ import annotations

from typing import Final

_NOUN_DOC = r"(?:letters?|notices?|instructions?|estimates?|explanations?|rules|notification|decision)"
_NOUN_TOOL = (r"(?:site|website|web ?site|form|forms|login|log ?in|app|application|portal|process|system|page|tool|"
              r"questionnaire|kiosk)")

#: driver -> cue patterns (regular expressions, lower case).
DRIVER_CUES: Final[dict[str, tuple[str, ...]]] = {
    "effectiveness": (
        r"resolved|unresolved|fixed|fix(?:es)? (?:it|my|the)|fix it|solved|sorted out|got (?:what|everything) (?:i|we) needed",
        r"got (?:my|an) answer|straight answer|answered (?:all )?(?:of )?my questions?|the answer was|answer was (?:wrong|"
        r"right|correct)",
        r"approved|denied|denial|rejected|returned as incomplete",
        r"(?:lost|losing|misplaced) (?:my|our|his|her|the) (?:\w+ )?(?:file|records?|documents?|paperwork|application|forms?|"
        r"dd-?214|bonds?|mail)",
        r"wrong (?:name|date|birth ?date|amount|address|information|info)|spelled wrong|misspelled|by mistake|"
        r"old (?:address|house)",
        r"charged twice|double charged|(?:was|were|is) wrong|first payment was wrong",
        r"(?:never|didn't|did not|haven't|have not|hasn't|has not|still) (?:\w+ )?(?:arrived|came|come|received|gotten)|"
        r"never got (?:it|my|the|paid)|(?:didn't|did not|never) get paid",
        r"(?:refund|card|passport|check|payment|money|bonds?|benefits?) (?:\w+ )?(?:arrived|came|was deposited|were deposited|"
        r"is missing|still missing|missing)|(?:arrived|came|received) (?:my|the) (?:new )?(?:card|passport|refund|check|payment)",
        r"got my (?:new )?(?:card|passport|refund|check|payment|money)|(?:were|was) (?:reissued|deposited|released|replaced)|"
        r"refund released|(?:card|passport) replaced|still not here|not here",
        r"cancell?ed|cancels|reschedul\w+|(?:benefits?|payments?|checks?) (?:stopped|were cut|was cut)|cut my benefits",
        r"(?:kept|keep|keeps) losing|lost (?:them|it)|productive|unproductive|less than (?:expected|i expected)|"
        r"amount was (?:wrong|less|lower)|nothing worked|(?:not )?useful|useless|nothing (?:they|you|anyone) (?:can|"
        r"could) do|nobody fixes|no one fixes|"
        r"no one helped|nobody helped|(?:no one|nobody) (?:\w+ )?fix",
        r"one visit|first call|first try|handled in one|blaming each other|pointing fingers|"
        r"(?:didn't|did not|doesn't|does not|never) (?:\w+ )?(?:solve|fix|resolve|help)|my need|need was met|problem solved|"
        r"came to my door|(?:anyone|anybody|nobody) (?:even )?read|agreement on|answer (?:basic )?questions",
        r"found the (?:mistake|error|problem)|(?:was|were|is) in my account|filing receipt|accepted the same day|"
        r"return was accepted|got me an? (?:\w+ )?appointment",
    ),
    "ease": (
        r"easy|easier|easiest|easily|ease|simple|simpler|straightforward|painless|hassle|nightmare|intuitive|user[- ]friendly",
        r"(?:hard|difficult|impossible|tough) to (?:use|find|navigate|figure|get to|do|fill)|hard to figure|navigat\w*|maze",
        r"confusing (?:" + _NOUN_TOOL + r")|(?:" + _NOUN_TOOL + r")\W+(?:\w+\W+){0,4}?(?:is|was|so|very|too|really) confusing",
        r"crash\w*|errors?|glitch\w*|bug(?:gy|s)?|froze|freez\w*|frozen|timed out|times out|timing out|session expired|"
        r"(?:logged|logs|kicked) (?:me |us )?out",
        r"log ?in|login|logged in|sign ?in|password|passcode|verify (?:my|your)? ?identity|identity verification|"
        r"verify again|verification|id\.me|selfie|account lock",
        r"(?:portal|site|website|system|app|page)s? (?:\w+ )?(?:down|broken|not working|failed)|(?:is|was|went) down|"
        r"(?:not|isn't|wasn't|doesn't|didn't|wouldn't|won't|never) (?:\w+ )?(?:working|work|load|accept|read)",
        r"upload\w*|download\w*|kiosk|from my phone|(?:do|did|done) (?:it|everything|it all) (?:all )?online|"
        r"secure messag\w+|pharmacy refill|"
        r"works great|(?:app|site|website|page|tool) (?:\w+ )?(?:works|worked)",
        r"paperwork|fill (?:it )?out|(?:same|the same) (?:information|info|questions?|documents?|paperwork|pay stubs)|"
        r"erasing|erased|start(?:ed)? over|had to (?:mail|send|submit|upload|resend|fax|print|drive|re-?enter|repeat)",
        r"(?:couldn't|could not|can't|cannot|unable to) (?:\w+ )?(?:find|log ?in|login|sign in|upload|create|access|figure)|"
        r"find (?:everything|what (?:i|we) needed|where)|found everything",
        r"phone (?:system|tree)|pressing buttons|bank signature|signature guarantee|one phone call|one reply|in one place|"
        r"saves your progress|improvement|eligibility tool|comparison tool|search tool|photo tool|do (?:it|everything|it all) "
        r"(?:online|from)|able to do|visit an office|need an appointment|rescheduling was impossible|"
        r"find the right office|add a beneficiary|figure out (?:which|how|where)|(?:check[- ]in|checkin) (?:process|kiosk|"
        r"worked|was)|a mess",
    ),
    "efficiency": (
        r"hold|wait\w*|waited|queue|in (?:a |the )?line|stood in (?:a |the )?line|line moved|long line",
        r"quick\w*|fast\w*|slow\w*|speedy|prompt(?:ly)?|timely|efficient\w*|inefficient|right away|immediately|in no time|"
        r"same (?:day|week)|next day|on time|in and out|late|delay\w*|backlog|forever|took (?:so |too )?long|so long|"
        r"too long|long time|wasn't long|not long",
        r"took (?:\w+ ){0,3}?(?:minutes?|hours?|days?|weeks?|months?|years?)|\d+ (?:minutes?|min|hours?|hrs?|days?|weeks?|"
        r"months?)|"
        r"(?<!how )(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|twenty|thirty|forty|fifty|ninety|"
        r"several|few|many) (?:more )?(?:minutes?|hours?|days?|weeks?|months?)|over a year|(?:in|for|after|"
        r"since) (?:a )?(?:months?|weeks?)",
        r"transferr\w*|bounced|passed around|sent between|run-?around",
        r"call(?:ed)? (?:me |us )?back|callback|returned my calls?|got back to me|heard back|heard nothing|"
        r"(?:no one|nobody|never) (?:ever )?(?:answers|answered|picks up|responds|responded)|unanswered|"
        r"answered (?:the phone )?(?:right away|quickly)|no (?:reply|response)|answered in",
        r"hung up|hangs up|hang up|dropped|disconnected|cut off|get through|call volume|busy signal",
        r"still (?:pending|processing|in process|waiting|no decision)|(?:still|is|was|been|says?|said|shows?) .?in process|"
        r"in the queue|since (?:january|february|march|"
        r"april|may|june|july|august|september|october|november|december|spring|summer|fall|winter)|in august|in october",
        r"months out|weeks out|appointment slots|has not changed in|hasn't changed in|a year ago|emails go|"
        r"took (?:\w+ ){0,2}?(?:emails|calls|tries|visits|attempts|trips)|take (?:too |very |that )?long|takes long|taking long|"
        r"entire (?:day|morning|afternoon)|whole (?:day|morning|afternoon|lunch break)|all (?:day|morning|afternoon)",
    ),
    "transparency": (
        r"status|tracker|updates|no update|any update|an update|kept (?:me|us) updated|informed|inform",
        r"explain\w*|explanation|clear(?:ly)?|unclear|clarity|plain language|makes? (?:no )?sense|made no sense|"
        r"understand(?!ing (?:about|and|of))\w*|understood",
        r"no idea|no clue|(?:don't|do not|didn't|did not) (?:\w+ )?know|nobody (?:can|could|will) tell|no one (?:can|could|"
        r"will) tell|"
        r"(?:nobody|no one) (?:\w+ )?(?:told|explains|explained)|never told|nobody told|no one told|wasn't told|were never told|"
        r"tell me (?:why|anything|when|how|what)|told me (?:exactly|what|everything)|the truth|how long it would take",
        r"(?:" + _NOUN_DOC + r")\W+(?:\w+\W+){0,6}?(?:says?|said|didn't|doesn't|does not|did not|explain\w*|clear|"
            r"understand|read|"
        r"english|sense|confusing|tell)|confusing (?:" + _NOUN_DOC + r")|(?:" + _NOUN_DOC + r") (?:is|was) "
        r"(?:clear|confusing|unclear|written)",
        r"instructions?|checklist|reminder|what to (?:send|bring|expect)|what (?:i|we) needed to bring|documents? (?:i|we) "
        r"(?:still )?needed|documents? (?:count|i need)|which documents|what (?:would|will) happen|next steps?",
        r"different (?:things|answers|information)|conflicting|contradict\w*|straight answer|didn't mention|"
        r"(?:was|were|wasn't) mentioned|without explanation|no explanation|by how much|for what year|nobody explains",
        r"(?:doesn't|does not|didn't|did not) (?:say|tell|explain)|what was wrong|why (?:my|i|it)|(?:when|where) (?:i'd|"
        r"i would|it) "
        r"(?:hear|stands|is)|where (?:my|it) \w+ (?:is|stands)|need to know|want to know|like to know|check status|"
        r"where it stands|kept (?:me|us) informed|notice was|in english|heard nothing|no news|without (?:telling|notice|warning|"
        r"notifying|letting)|(?:can't|cannot|couldn't|could not) (?:tell|understand|figure out) (?:what|why|how|where|when|"
        r"if|whether)|"
        r"(?:tool|tracker|site|website|page|app|status) (?:\w+ ){0,2}?(?:says|said|shows|showed) .?(?:still|processing|"
        r"pending|in process)",
    ),
    "humanity": (
        r"respect\w*|disrespect\w*|dignity|rude\w*|kind|kindly|kindness|unkind|courteous|courtesy|polite|impolite",
        r"friendly|unfriendly|pleasant|nice (?:person|lady|man|people|staff|woman|guy)|(?:was|were|so|very) nice|"
        r"compassion\w*|empath\w*|cared|caring|care about|sympath\w*|warm|welcoming|decent",
        r"(?:was|were|so|very|extremely|really) patient|patience|impatient|listened|listens|(?:listen|listening) to (?:me|us)|"
        r"(?:didn't|did not|doesn't|does not|not|never) listen\w*|time to listen|rushed|rush me|rushing",
        r"condescending|dismissive|judged|shouting|shouted|yelling|yelled|screamed|attitude|sweetie|"
        r"treated (?:me|us|my|everyone|people)|treat (?:me|us|people)|like a (?:criminal|number|person|human)|not a number|"
        r"felt (?:valued|heard|respected|welcome|like a)|made me feel|apologi\w+|understanding (?:about|and|of)",
        r"no chairs|elderly (?:people|applicants) (?:standing|stood)",
    ),
    "employee": (
        r"staff|staffer|employees?|agents?|reps?|representatives?|clerks?|officers?|caseworkers?|case workers?|counselors?|"
        r"counsellors?|specialists?|examiners?|enumerators?|workers?|volunteers?|nurses?|doctors?|providers?|schedulers?|"
        r"supervisors?|managers?|technicians?|vso|guards?|pharmacists?|interviewers?|adjudicators?|advisors?|advisers?|"
        r"operators?|receptionists?|personnel|tellers?|(?:certifying )?officials?|care team",
        r"(?:the|a|that|this|one|nice|kind|rude) (?:lady|woman|man|gentleman|guy|person|girl|young man|young lady)|"
        r"(?:lady|woman|man|person|people) (?:who|that|at|there|on the phone)|people there|friendly people|"
        r"(?:a|any|the right) (?:human|person|live person|real person)|\w+est (?:person|lady|man|woman|people)|"
        r"person (?:i|we) (?:\w+ ){0,2}?(?:talked|spoke|dealt|met)|reach a human|whoever answered|"
        r"customer (?:service|support)|call center|front desk|the desk",
        r"(?:she|he) (?:was|went|helped|explained|called|pulled|found|fixed|kept|took|got|is|did)|(?:her|him) (?:time|help)",
    ),
}
