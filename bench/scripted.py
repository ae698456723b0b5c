"""Scripted executive interviews with known truth: an evaluation corpus for speaker turns,
answers per question and names (issue 13).

:func:`script` writes an interview from a seed: greetings, the engagement's questions asked as
paraphrases (sometimes reordered, one sometimes skipped, long interviews adding topics), short
follow-ups, answers assembled from a bank of points per topic that mention tricky names,
companies and products. :func:`render` speaks it with espeak-ng, line by line in two voices,
joins the lines with pydub and returns the :class:`Truth`: exact turn times, answer spans, the
reference text and the names in speaking order. :func:`engagement` and
:func:`write_engagement` make a whole engagement folder as a consultant would upload it.

    python -m bench.scripted --out /tmp/corpus --n 30 --lengths 30,300,1800

Everything is deterministic by seed (``random.Random``); nothing touches the network. The
question and answer banks are data, so this one module is longer than the house's ~400 lines.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import re
import shutil
import subprocess
import sys
import time
import wave
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random

__all__ = ["COMPANIES", "PRODUCTS", "TOPICS", "VOICE_PAIRS", "Line", "ScriptedInterview",
           "Theme", "Topic", "Truth", "Voice", "engagement", "load_truth", "parse_voice", "render",
           "script", "write_engagement"]

SAMPLE_RATE = 16_000
ESPEAK_RATE = 22_050  # espeak-ng's own output rate; lines are joined at it, resampled once
PAUSE_S = (0.3, 1.2)
LEAD_S = 0.4  # silence before the first and after the last line


# ---------------------------------------------------------------------------------- voices

@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: language+variant, pitch (0-99) and speed (words per minute)."""

    espeak: str
    pitch: int
    speed: int
    gender: str  # "male" | "female": what the variant sounds like

    @property
    def key(self) -> str:
        """The string a :class:`Line` carries, e.g. "en-us+f3:p50:s160"."""
        return f"{self.espeak}:p{self.pitch}:s{self.speed}"


def parse_voice(key: str) -> tuple[str, int, int]:
    """"en-us+f3:p50:s160" -> ("en-us+f3", 50, 160)."""
    m = re.fullmatch(r"([\w+-]+):p(\d+):s(\d+)", key)
    if not m:
        raise ValueError(f"{key!r} is not a voice key; write <espeak voice>:p<pitch>:s<speed>, "
                         "e.g. en-us+f3:p50:s160")
    return m.group(1), int(m.group(2)), int(m.group(3))


def _v(espeak: str, pitch: int, speed: int) -> Voice:
    return Voice(espeak, pitch, speed, "female" if "+f" in espeak else "male")


#: (interviewer, executive). Same-gender pairs are the hard case for speaker turns: two male
#: espeak voices sound alike to a voice-embedding model, so those differ in accent and pitch.
VOICE_PAIRS: tuple[tuple[Voice, Voice], ...] = (
    (_v("en-us+f3", 50, 160), _v("en-gb+m3", 45, 150)),            # the demo's pair
    (_v("en-gb+m1", 40, 165), _v("en-us+f2", 62, 155)),
    (_v("en-us+m2", 35, 170), _v("en-gb-scotland+m4", 65, 145)),   # male-male
    (_v("en-us+f1", 70, 160), _v("en-gb+f4", 38, 150)),            # female-female
    (_v("en-gb-x-rp+m5", 55, 158), _v("en-us+m7", 25, 140)),       # male-male
    (_v("en-us+f5", 45, 172), _v("en-gb-x-rp+f2", 68, 152)),       # female-female
    (_v("en-029+m3", 50, 155), _v("en-us-nyc+f3", 55, 168)),
    (_v("en-gb+f3", 60, 150), _v("en-us+m6", 30, 162)),
    (_v("en-us-nyc+m1", 60, 175), _v("en-gb-x-gbclan+m2", 30, 148)),  # male-male
    (_v("en-gb-x-rp+f1", 40, 158), _v("en-us+f4", 75, 150)),       # female-female
    (_v("en-us+m4", 45, 150), _v("en-gb-x-gbcwmd+f5", 50, 160)),
    (_v("en-gb-scotland+f2", 55, 165), _v("en-029+m5", 40, 145)),
)


# ------------------------------------------------------------------------------ name bank

#: (first name, gender); the executives' names are first x last, chosen to trip a speech model
FIRST_NAMES = (
    ("Hester", "female"), ("Abigail", "female"), ("Siobhan", "female"), ("Niamh", "female"),
    ("Xiomara", "female"), ("Saoirse", "female"), ("Ingrid", "female"), ("Aoife", "female"),
    ("Eilidh", "female"), ("Oluwaseun", "female"), ("Guadalupe", "female"),
    ("Joaquin", "male"), ("Dmitri", "male"), ("Ruairi", "male"), ("Guillermo", "male"),
    ("Bartholomew", "male"), ("Tadhg", "male"), ("Wojciech", "male"), ("Leopold", "male"),
    ("Thelonious", "male"), ("Anselm", "male"), ("Piotr", "male"),
)
LAST_NAMES = (
    "Prynne", "Claflin", "Nakagawa", "Okonkwo", "Lindqvist", "Thibodeaux", "Szczepanski",
    "Kowalczyk", "Achterberg", "Castellanos", "Nkemelu", "Marchetti", "Abernathy", "Pettersen",
    "Vanderbilt", "Featherstonehaugh", "Oyelaran", "Grzybowski", "Delacroix", "Huxtable",
)
INTERVIEWER_NAMES = ("Ottoline Drummond", "Caoimhe Brennan", "Pieter Van Rensselaer",
                     "Imogen Ashcombe", "Rasmus Kjeldsen", "Perpetua Oakes")
#: people the executives mention (colleagues, partners)
COLLEAGUES = ("Mirabel Quayle", "Ferdinand Oyelowo", "Cressida Farquharson",
              "Lorcan Tiernan", "Zbigniew Holloway", "Philippa Marchbanks",
              "Evander Kusanagi", "Rosalind Achebe")
COMPANIES = ("Zentravia", "Halvorsen Logistics", "Kestrelmoor Foods", "Vantablue Systems",
             "Aldergrove Freight", "Nordvik Energy", "Caelum Biotech", "Ferrovia Rail",
             "Thistledown Insurance", "Marrowgate Capital")
PRODUCTS = ("Orbitrax", "Kinetiq Flow", "SableDesk", "Luminor Cloud", "Fathom Ledger",
            "Quantica Pay", "Tessellate", "Voltaire Sync")
TITLES = (("Chief Operating Officer", "COO"), ("Chief Financial Officer", "CFO"),
          ("Head of Procurement", "buyer"), ("Vice President of Sales", "sales lead"),
          ("Chief Technology Officer", "CTO"), ("Board Member", "board member"),
          ("Chief Executive Officer", "CEO"), ("Director of Supply Chain", "operations lead"),
          ("Chief People Officer", "HR lead"), ("Chief Marketing Officer", "CMO"))
_NUMBERS = ("ten", "fifteen", "twenty", "thirty", "forty", "sixty")


# -------------------------------------------------------------------------- question bank

@dataclass(frozen=True)
class Theme:
    """One point an executive can make: ``statements`` say it (any one of them), ``support``
    backs it up. Slots: {company} {product} {rival} {colleague} {n}."""

    id: str
    statements: tuple[str, ...]
    support: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    question: str  # canonical, as engagement.yaml lists it
    paraphrases: tuple[str, ...]  # as an interviewer asks it; few words shared with question
    themes: tuple[Theme, ...]


def _t(id: str, statements: Sequence[str], support: Sequence[str]) -> Theme:
    return Theme(id, tuple(statements), tuple(support))


TOPICS: tuple[Topic, ...] = (
    Topic("What is your biggest priority for next year?", (
        "Looking ahead twelve months, where will you put most of your energy?",
        "If you picture the coming year, which single goal matters most to you?",
        "When you plan the months ahead, what tops the list?",
        "Of all the things on your desk, which one must get done soonest?"), (
        _t("priority.service", (
            "Our main focus is growing the service business, so that recurring contracts carry "
            "us and not one-off sales.",
            "Above all we want maintenance and service revenue that comes back every month.",
            "Honestly, it is service: we want customers paying us to run the equipment, not "
            "just to buy it."), (
            "Today only about {n} percent of revenue at {company} is recurring.",
            "{colleague} is building the service team and needs technicians who know software.",
            "Customers keep asking us to operate {product} for them, and we say no too often.")),
        _t("priority.cost", (
            "Cutting cost is the headline, we have to take waste out of the operation.",
            "Margin, really: we need to spend less to deliver the same thing.",
            "We have to get leaner, the cost base grew faster than revenue."), (
            "We think {n} percent of our overhead does not touch a customer at all.",
            "{colleague} is leading a review of every contract above a certain size.",
            "We will close two of the older warehouses and move that volume to {company}'s "
            "main site.")),
        _t("priority.launch", (
            "Launching {product} properly is what I care about most.",
            "The new platform, {product}, has to land with customers this year.",
            "Everything points to getting {product} out of pilot and into real accounts."), (
            "We have {n} pilot customers and they like it, but they want integrations first.",
            "{colleague} owns the launch and reports to me every week.",
            "If {product} slips again, {rival} will get there before us.")),
    )),
    Topic("What is the biggest obstacle to your strategy?", (
        "Where do things tend to get stuck when you try to execute?",
        "What keeps slowing your plans down?",
        "Which hurdles worry you most right now?",
        "If something derails you, what will it be?"), (
        _t("obstacle.people", (
            "Mostly people, we cannot hire the skills fast enough.",
            "Talent is the bottleneck, every other company is chasing the same engineers.",
            "It comes down to staffing, we simply do not have enough hands."), (
            "We have {n} open roles and some of them have been open since spring.",
            "{colleague} tells me the good candidates get three offers in a week.",
            "Training takes a year before someone is really productive.")),
        _t("obstacle.systems", (
            "Our old systems, the back office runs on software from another era.",
            "Legacy technology slows everything, a simple change takes months.",
            "The tooling, frankly, we are held together by spreadsheets."), (
            "We still key orders twice, once in the warehouse and once in finance.",
            "{colleague} estimates that {n} percent of the team's week is manual reconciliation.",
            "Replacing it means a migration nobody wants to own.")),
        _t("obstacle.alignment", (
            "Alignment at the top, the leadership team pulls in different directions.",
            "We do not agree internally on what matters, and that costs us time.",
            "Decision making is slow because every unit wants its own plan."), (
            "Sales wants volume while operations wants fewer, better customers.",
            "{colleague} and I have had the same argument for two quarters.",
            "Until we settle that, every budget meeting at {company} reopens the strategy.")),
    )),
    Topic("What is your one message for the board?", (
        "If you had two minutes with the directors, what would you tell them?",
        "Suppose the people who oversee the company asked for a single takeaway; what would "
        "you say?",
        "Imagine you are in front of the non-executives tomorrow. What do they need to hear?",
        "What should governance hear from you, in one sentence?"), (
        _t("board.invest", (
            "Invest now, or the growth plan will not happen.",
            "Spend on the foundations this year, it pays back later.",
            "Fund the plan properly, half measures will cost more."), (
            "We are asking for a bigger capital budget than last year and it is justified.",
            "{rival} is investing heavily and we cannot watch from the side.",
            "The payback on {product} is under three years on our numbers.")),
        _t("board.patience", (
            "Be patient, the results will lag the effort by a year or so.",
            "Give the team time, the turnaround is working but slowly.",
            "Do not judge us on one quarter, look at the trend."), (
            "Leading indicators like renewals are already up {n} percent.",
            "Changing direction again would undo the work {colleague}'s team has done.",
            "Every restart costs us credibility with customers and staff.")),
        _t("board.focus", (
            "Focus, we are trying to do too many things at once.",
            "Pick fewer bets and back them fully.",
            "Stop adding initiatives, we need to finish the ones we have."), (
            "We counted {n} strategic projects, which means none of them is strategic.",
            "I would rather do three things well than ten things badly.",
            "{colleague} has a list of projects we could stop tomorrow.")),
    )),
    Topic("How are your customers' needs changing?", (
        "What do buyers ask you for today that they did not ask for three years ago?",
        "Tell me about shifts you see among the people who purchase from you.",
        "Which demands from clients surprised you recently?",
        "What is different about the accounts you serve now compared with before?"), (
        _t("customers.speed", (
            "They want everything faster, next day is the new normal.",
            "Speed, delivery windows keep shrinking.",
            "Turnaround time has become the main thing they judge us on."), (
            "A large account told us that two days is now too slow.",
            "{rival} promises same-day delivery in the big cities.",
            "{colleague} reorganised the dispatch shifts around it.")),
        _t("customers.sustainability", (
            "Sustainability, they ask about the carbon footprint of everything we ship.",
            "Buyers want proof that we are green, not just promises.",
            "Environmental reporting is now part of every tender."), (
            "About {n} percent of tenders now score emissions.",
            "We built a carbon report into {product} because customers demanded it.",
            "{colleague} spends half of every week answering sustainability questionnaires.")),
        _t("customers.selfservice", (
            "They want to serve themselves online and only call us when it matters.",
            "Self-service, people would rather click than phone.",
            "Customers expect a portal where they can do it all without us."), (
            "Calls to the service desk fell by {n} percent after we opened the portal.",
            "{product} handles most routine orders now.",
            "The customers who still call are the ones with real problems.")),
    )),
    Topic("Who are your main competitors and how do you win against them?", (
        "When you lose a deal, who usually takes it, and why?",
        "Which rival firms keep you up at night?",
        "Tell me about the other players chasing the same accounts.",
        "Where does the pressure from other vendors come from?"), (
        _t("competition.price", (
            "{rival} undercuts us on price, and we win on reliability.",
            "The cheap end of the market belongs to {rival}, we compete on quality.",
            "We are rarely the cheapest; {rival} usually is, and we still win when uptime "
            "matters."), (
            "Our win rate is about {n} percent when the buyer scores service levels.",
            "When it is a pure price auction we walk away.",
            "{colleague} keeps a file of every deal we lost to {rival}.")),
        _t("competition.startups", (
            "Small software start-ups, not the traditional players.",
            "The threat is new entrants with slick apps and venture money.",
            "Honestly the young digital firms worry me more than {rival}."), (
            "They do not carry our cost base, so they can price aggressively.",
            "We answer with {product}, which ties the app to our physical network.",
            "{colleague} thinks we should buy one of them rather than fight them.")),
        _t("competition.relationships", (
            "{rival} mostly, and we beat them through relationships.",
            "It is a small market; we win because customers know and trust our people.",
            "Personal relationships, that is where we beat {rival}."), (
            "Some of our accounts have been with {company} for twenty years.",
            "{colleague} knows every buyer in the region by name.",
            "The risk is that those relationships retire with the people who hold them.")),
    )),
    Topic("How do you make pricing decisions?", (
        "Walk me through how a number ends up on a quote.",
        "Who decides what you charge, and based on what?",
        "When rates go up or down, what triggers it?",
        "Tell me how the figures on your proposals are set."), (
        _t("pricing.costplus", (
            "Mostly cost plus a margin, which I know is old-fashioned.",
            "We add a fixed markup to our costs and adjust from there.",
            "It starts from cost; finance adds the margin the plan needs."), (
            "The markup has been {n} percent for as long as anyone remembers.",
            "{colleague} wants to move to value-based pricing for {product}.",
            "The problem is we leave money on the table with the customers who would pay "
            "more.")),
        _t("pricing.market", (
            "We follow the market, and {rival} usually moves first.",
            "Our prices track what competitors charge.",
            "The market sets the level, we position slightly above {rival}."), (
            "Sales sends me competitor quotes every week.",
            "We matched {rival}'s increase last autumn within a month.",
            "That means we never really own our pricing.")),
        _t("pricing.discounts", (
            "Too much of it happens in discounts the sales team gives away.",
            "The list price is fiction, the real price is whatever the rep negotiates.",
            "Discounting, frankly; the list is set centrally and then eroded deal by deal."), (
            "The average discount is close to {n} percent.",
            "{colleague} is introducing approval limits for anything above that.",
            "We give service away to win the sale, and then we wonder why margins are thin.")),
    )),
    Topic("What role will technology and data play in your plans?", (
        "Where do software and analytics fit in the road map?",
        "Which tools or systems are you betting on?",
        "How much are you counting on automation to get there?",
        "Tell me about the digital side of things."), (
        _t("technology.automation", (
            "Automation in the warehouses is the big bet.",
            "Robots and automated picking will carry most of the productivity gain.",
            "We are automating the physical work first."), (
            "The pilot site picks {n} percent more orders per hour.",
            "{colleague} runs the automation programme with a partner called {product}.",
            "It also helps with hiring, because nobody wants the night shift.")),
        _t("technology.data", (
            "Data, we want one view of the customer across all units.",
            "Analytics, we sit on a lot of information and use very little of it.",
            "Getting our data in one place so we can actually decide with it."), (
            "Today every unit at {company} has its own customer list.",
            "{product} will be the single source for orders and invoices.",
            "{colleague} hired a small analytics team in the spring.")),
        _t("technology.ai", (
            "Artificial intelligence, mostly for forecasting demand.",
            "Machine learning, we think forecasting is where it pays first.",
            "We are experimenting with AI, carefully."), (
            "The first forecasts beat our planners by about {n} percent.",
            "{colleague} insists that a human signs off every forecast for now.",
            "We bought it as a module of {product} rather than building it.")),
    )),
    Topic("How are you building the team you need?", (
        "Where will the people come from to make this happen?",
        "Tell me about hiring and keeping staff.",
        "What does recruiting look like for you at the moment?",
        "How do you find and hold on to good people?"), (
        _t("team.grow", (
            "We train our own people, an academy for technicians.",
            "Growing talent internally, because hiring from outside is too slow.",
            "We built a training programme and promote from within."), (
            "The academy took {n} apprentices this year.",
            "{colleague} designed the curriculum with a local college.",
            "People trained here tend to stay longer.")),
        _t("team.hire", (
            "Hiring senior people from outside who have done it before.",
            "We are bringing in experienced leaders from bigger firms.",
            "External hires, mostly, for the new capabilities."), (
            "We hired {colleague} from {rival} to run the digital side.",
            "Senior hires are expensive but they save us years.",
            "The risk is culture clash with the people who have been here a long time.")),
        _t("team.retain", (
            "Keeping the people we have is harder than hiring.",
            "Retention, we lose too many good people in their second year.",
            "The real work is holding on to staff."), (
            "Attrition is around {n} percent in the operations teams.",
            "{colleague} introduced stay interviews and they help.",
            "Flexible shifts mattered more than pay in our surveys.")),
    )),
    Topic("How will you measure success?", (
        "Three years from now, what would make you say it worked?",
        "Which numbers do you watch to know it is going well?",
        "What would a good outcome look like to you?",
        "How will you know you got there?"), (
        _t("success.margin", (
            "Operating margin, that is the number the owners look at.",
            "Profitability, a margin we can be proud of.",
            "If margin is up, it worked; if not, nothing else matters."), (
            "We want to add {n} basis points a year, which is ambitious.",
            "{colleague} reports it to me every month by business line.",
            "Revenue growth without margin would be a failure.")),
        _t("success.retention", (
            "Customer retention, whether they renew.",
            "Renewals, a customer who stays is the best proof.",
            "I watch churn more than anything else."), (
            "We lose about {n} percent of accounts a year and I want that halved.",
            "{product} tells us early when an account is at risk.",
            "{colleague} calls every customer who leaves to ask why.")),
        _t("success.engagement", (
            "Employee engagement, if the people believe in it the numbers follow.",
            "Whether our staff would recommend working here.",
            "People first: engagement scores and how many stay."), (
            "The survey score went up {n} points last year.",
            "{colleague} shares the results with every team, good or bad.",
            "When engagement drops, customer complaints follow three months later.")),
    )),
)
_BY_QUESTION = {t.question: t for t in TOPICS}

#: for interviews under a minute: greetings and closings short enough to leave room
SHORT_GREETINGS = ("Thanks for joining. I am {interviewer}.", "Hello, this is {interviewer}.")
SHORT_INTRODUCTIONS = ("I am {name}, {title} at {company}.", "{name}, {company}.")
SHORT_CLOSINGS = ("Thank you, that is all.", "Great, thanks for your time.")
GREETINGS = (
    "Good morning, and thank you for making the time today. I am {interviewer}.",
    "Thanks for joining me. My name is {interviewer}, and I will keep this focused.",
    "Hello, and thank you for agreeing to speak with us. This is {interviewer}.",
    "Good afternoon. I am {interviewer}, thanks for fitting this in.")
INTRODUCTIONS = (
    "Happy to help. I am {name}, {title} at {company}.",
    "Of course. {name} here, I am the {title} at {company}.",
    "My pleasure. I am {name}, and I serve as {title} of {company}.")
CLOSINGS = (
    "That is everything I wanted to cover. Thank you very much for your time.",
    "We are at time, so let me stop there. Thank you, this was very useful.",
    "Thank you, that gives us plenty to work with. I will let you go.")
CLOSING_REPLIES = ("My pleasure, good luck with the project.", "Thanks, happy to follow up.",
                   "Thank you, it was good to talk.")
ACKS = ("Thank you.", "That is helpful.", "Understood.", "Great, thanks.", "Okay.")
FOLLOW_UPS = ("Can you say more about that?", "Why is that?", "What makes you say that?",
              "Could you give me an example?", "Interesting. Go on.", "How so?")
#: what an executive says to go on after a follow-up, before more of the same point
CONTINUATIONS = ("Sure.", "Well,", "Let me think.", "Yes, so,", "Good question.")
#: theme-neutral sentences that lengthen an answer; the same slots as a Theme's
ELABORATIONS = (
    "When I talk to {colleague} about it, we keep coming back to the same conclusion.",
    "I raised this at our last leadership offsite and nobody disagreed.",
    "To put a number on it, maybe {n} percent of our effort goes there.",
    "We learned this the hard way, to be honest.",
    "It is not unique to {company}, everyone in the sector says the same.",
    "Our customers notice it before our own reports do.",
    "I would not have said that two years ago.",
    "{colleague} would probably put it more bluntly than I do.",
    "We compared ourselves with {rival}, and the gap was uncomfortable.",
    "It shows up in every quarterly review.",
    "Part of it is culture, and culture changes slowly.",
    "If you asked the front line, they would tell you the same story.",
    "The numbers support it, although they are not perfect.",
    "We tried a quick fix once and it did not stick.",
    "There is no single owner for it, which is part of the problem.",
    "We will know more after the next planning cycle.",
    "I discussed it with {colleague} only last week.",
    "Frankly, it is the topic that takes most of my calendar.")
RESTATEMENTS = ("Let me say it another way.", "So, in short:", "To come back to the main point.",
                "Put simply:")
SECOND_POINTS = ("There is a second thing, too.", "And one more point.",
                 "Beyond that, there is another angle.", "I would add something else.")


# ------------------------------------------------------------------------------ the script

@dataclass(frozen=True)
class Line:
    role: str  # "interviewer" | "executive"
    voice: str  # Voice.key
    text: str
    asks: str | None  # the canonical question this line asks; None: greeting, follow-up
    follow_up: bool


@dataclass(frozen=True)
class ScriptedInterview:
    seed: int
    length_s: float
    interviewer_voice: str
    executive_voice: str
    executive: dict  # name, title, company, role (the form's fields)
    interviewer_name: str
    questions: tuple[str, ...]  # the engagement's canonical questions, in engagement order
    lines: tuple[Line, ...]
    vocabulary: tuple[str, ...]  # names, companies and products that occur in the lines
    themes: dict[str, str]  # canonical question -> theme id of the executive's (first) point
    #: canonical question -> every theme id the executive touched, first point first
    points: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Truth:
    turns: list[tuple[float, float, str]]  # (start, end, role) per line, seconds
    #: canonical question -> (start of the first executive line after the asking line, end of
    #: the last executive line before the next interviewer line that is not a follow-up)
    answers: dict[str, tuple[float, float]]
    text: str  # the reference transcript, one line per line
    executive_text: dict[str, str]  # canonical question -> what the executive said in answer
    names_spoken: list[str]  # vocabulary terms in speaking order, repeats included
    duration: float


@dataclass
class _Cast:
    executive: dict
    interviewer_name: str
    rivals: tuple[str, ...]
    colleagues: tuple[str, ...]
    products: tuple[str, ...]


def _cast(rng: Random, gender: str, *, name: str | None = None,
          company: str | None = None) -> _Cast:
    if name is None:
        firsts = [f for f, g in FIRST_NAMES if g == gender]
        name = f"{rng.choice(firsts)} {rng.choice(LAST_NAMES)}"
    company = company or rng.choice(COMPANIES)
    title, role = rng.choice(TITLES)
    return _Cast({"name": name, "title": title, "company": company, "role": role},
                 rng.choice(INTERVIEWER_NAMES),
                 tuple(rng.sample([c for c in COMPANIES if c != company], 2)),
                 tuple(rng.sample(COLLEAGUES, 3)), tuple(rng.sample(PRODUCTS, 2)))


def _fill(rng: Random, template: str, cast: _Cast) -> str:
    return template.format(company=cast.executive["company"], product=rng.choice(cast.products),
                           rival=rng.choice(cast.rivals), colleague=rng.choice(cast.colleagues),
                           n=rng.choice(_NUMBERS))


def _words(text: str) -> int:
    return len(text.split())


def _seconds(text: str, voice: Voice) -> float:
    """Roughly how long espeak-ng takes to say ``text`` (it pauses at punctuation); the
    factor is measured on this bank's sentences."""
    return 0.87 * (_words(text) * 60 / voice.speed + 0.25 * len(re.findall(r"[.,;?!]", text)))


def _sentences(rng: Random, topic: Topic, theme: Theme, cast: _Cast) -> Iterator[tuple[str, str]]:
    """(theme id, sentence) for an answer of any length: the point, its support, theme-neutral
    elaboration, then further points of the topic, then more elaboration."""
    first, *again = rng.sample(theme.statements, len(theme.statements))
    yield theme.id, _fill(rng, first, cast)
    support = list(theme.support)
    rng.shuffle(support)
    extra = list(ELABORATIONS)
    rng.shuffle(extra)
    for sentence in support:
        yield theme.id, _fill(rng, sentence, cast)
        yield theme.id, _fill(rng, extra.pop(), cast)
    if again:
        yield theme.id, f"{rng.choice(RESTATEMENTS)} {_fill(rng, again[0], cast)}"
    for _ in range(3):
        yield theme.id, _fill(rng, extra.pop(), cast)
    others = [t for t in topic.themes if t is not theme]
    rng.shuffle(others)
    for other in others:
        yield other.id, (f"{rng.choice(SECOND_POINTS)} "
                         f"{_fill(rng, rng.choice(other.statements), cast)}")
        for sentence in rng.sample(other.support, len(other.support)):
            yield other.id, _fill(rng, sentence, cast)
    while True:  # very long answers: elaboration, refilled (the slots vary the wording)
        if not extra:
            extra = list(ELABORATIONS)
            rng.shuffle(extra)
        yield theme.id, _fill(rng, extra.pop(), cast)


def _plan(rng: Random, asked: list[Topic], length_s: float) -> list[Topic]:
    """The topics asked, in asking order: the engagement's, sometimes reordered or with one
    skipped; longer interviews add topics until each answer has ~1-4 minutes."""
    asked = list(asked)
    if len(asked) > 1 and rng.random() < 0.35:
        i, j = rng.sample(range(len(asked)), 2)
        asked[i], asked[j] = asked[j], asked[i]
    if len(asked) >= 3 and rng.random() < 0.25:
        asked.pop(rng.randrange(len(asked)))
    most = 6 if length_s <= 600 else len(TOPICS)
    spare = [t for t in TOPICS if t not in asked]
    rng.shuffle(spare)
    while spare and len(asked) < most and length_s / (len(asked) + 1) > 50:
        asked.insert(rng.randrange(len(asked) + 1), spare.pop())
    return asked


def _script(seed: int, length_s: float, questions: Sequence[str] | None, pair: int | None,
            name: str | None = None, company: str | None = None) -> ScriptedInterview:
    rng = Random(seed)
    if questions is None:
        eng_topics = rng.sample(TOPICS, 3)
    else:
        unknown = [q for q in questions if q not in _BY_QUESTION]
        if unknown:
            raise ValueError(f"no paraphrases or answers for {unknown!r}; pick questions from "
                             "bench.scripted.TOPICS (Topic.question)")
        eng_topics = [_BY_QUESTION[q] for q in questions]
    pair = rng.randrange(len(VOICE_PAIRS)) if pair is None else pair % len(VOICE_PAIRS)
    iv_voice, ex_voice = VOICE_PAIRS[pair]
    cast = _cast(rng, ex_voice.gender, name=name, company=company)
    lines: list[Line] = []

    def say(role: str, text: str, asks: str | None = None, follow_up: bool = False) -> None:
        voice = iv_voice if role == "interviewer" else ex_voice
        lines.append(Line(role, voice.key, text, asks, follow_up))

    asked = _plan(rng, eng_topics, length_s)
    ex = cast.executive
    short = length_s < 60
    say("interviewer", rng.choice(SHORT_GREETINGS if short else GREETINGS).format(
        interviewer=cast.interviewer_name))
    say("executive", rng.choice(SHORT_INTRODUCTIONS if short else INTRODUCTIONS).format(**ex))
    pause = sum(PAUSE_S) / 2
    voices = {"interviewer": iv_voice, "executive": ex_voice}

    def elapsed() -> float:  # estimated, of the lines so far, with the pause after each
        return 2 * LEAD_S + sum(_seconds(ln.text, voices[ln.role]) + pause for ln in lines)

    closing = 3.0 if short else 6.0
    themes: dict[str, str] = {}
    points: dict[str, tuple[str, ...]] = {}
    for k, topic in enumerate(asked):
        phrasing = (topic.question if rng.random() < 0.1 else rng.choice(topic.paraphrases))
        if k and not short and rng.random() < 0.5:
            phrasing = f"{rng.choice(ACKS)} {phrasing}"
        say("interviewer", phrasing, asks=topic.question)
        # what is left, shared by the questions left: the estimate corrects itself as it goes
        per_answer = (length_s - closing - elapsed()) / (len(asked) - k)
        per_answer -= (len(asked) - k - 1) * (3 + pause)  # the asking lines still to come
        theme = rng.choice(topic.themes)
        themes[topic.question] = theme.id
        said: list[str] = []
        chunk: list[str] = []
        spent = 0.0
        # short answers: one follow-up now and then; long ones: a turn every 20-60 s
        turn_s = rng.uniform(20, 60) if per_answer > 40 else per_answer
        wants_follow_up = per_answer <= 40 and rng.random() < 0.25
        for theme_id, sentence in _sentences(rng, topic, theme, cast):
            cost = _seconds(sentence, ex_voice)
            if said and spent + cost / 2 > per_answer:
                break
            if theme_id not in said:
                said.append(theme_id)
            chunk.append(sentence)
            spent += cost
            turn_done = sum(_seconds(c, ex_voice) for c in chunk) >= turn_s
            if (wants_follow_up and spent + 3 < per_answer) or (
                    turn_done and spent + 10 < per_answer):
                say("executive", " ".join(chunk))
                say("interviewer", rng.choice(FOLLOW_UPS), follow_up=True)
                spent += _seconds(lines[-1].text, iv_voice) + 2 * pause
                chunk = [rng.choice(CONTINUATIONS)] if rng.random() < 0.4 else []
                turn_s = rng.uniform(20, 60) if per_answer > 40 else per_answer
                wants_follow_up = False
        say("executive", " ".join(chunk))
        points[topic.question] = tuple(said)
    say("interviewer", rng.choice(SHORT_CLOSINGS if short else CLOSINGS))
    if not short and rng.random() < 0.7:
        say("executive", rng.choice(CLOSING_REPLIES))
    terms = (ex["name"], cast.interviewer_name, *COMPANIES, *PRODUCTS, *COLLEAGUES)
    vocabulary = tuple(t for t in dict.fromkeys(terms) if any(t in ln.text for ln in lines))
    return ScriptedInterview(seed, float(length_s), iv_voice.key, ex_voice.key, dict(ex),
                             cast.interviewer_name, tuple(t.question for t in eng_topics),
                             tuple(lines), vocabulary, themes, points)


def script(seed: int, length_s: float = 30, *, questions: Sequence[str] | None = None,
           pair: int | None = None) -> ScriptedInterview:
    """A scripted interview of about ``length_s`` seconds. ``questions``: the engagement's
    canonical questions (from :data:`TOPICS`; default: 3 drawn by seed); ``pair``: an index
    into :data:`VOICE_PAIRS` (default: drawn by seed)."""
    return _script(seed, length_s, questions, pair)


# ------------------------------------------------------------------------------- rendering

def _espeak(line: Line) -> bytes:
    """One line as 16-bit mono PCM at ESPEAK_RATE, its leading and trailing silence cut."""
    import numpy as np

    voice, pitch, speed = parse_voice(line.voice)
    out = subprocess.run(["espeak-ng", "--stdout", "-v", voice, "-p", str(pitch), "-s",
                          str(speed), line.text], check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(out)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (ESPEAK_RATE, 1, 2):
            raise RuntimeError(f"espeak-ng wrote {w.getframerate()} Hz, {w.getnchannels()} "
                               "channel(s); expected 22050 Hz mono 16-bit")
        pcm = np.frombuffer(w.readframes(1 << 31), dtype="<i2")  # --stdout: no frame count
    loud = np.flatnonzero(np.abs(pcm) > 300)
    if not len(loud):
        raise RuntimeError(f"espeak-ng said nothing for {line.text!r} ({line.voice})")
    return pcm[loud[0]:loud[-1] + 1].tobytes()


def _names_in(text: str, vocabulary: Sequence[str]) -> list[str]:
    found = [(m.start(), term) for term in vocabulary
             for m in re.finditer(re.escape(term), text)]
    return [term for _, term in sorted(found)]


def render(interview: ScriptedInterview, path: Path, *, fmt: str = "wav",
           workers: int = 2) -> Truth:
    """Speak ``interview`` into ``path`` (16 kHz mono; ``fmt`` "wav" or "m4a") and return the
    truth: times are exact, from the sample counts of the joined lines."""
    from pydub import AudioSegment

    if fmt not in ("wav", "m4a"):
        raise ValueError(f"fmt {fmt!r}: write 'wav' or 'm4a'")
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed; install it: apt-get install espeak-ng")
    rng = Random(f"render-{interview.seed}")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pcms = list(pool.map(_espeak, interview.lines))
    chunks: list[bytes] = []
    samples = 0  # at ESPEAK_RATE

    def silence(seconds: float) -> None:
        nonlocal samples
        n = round(seconds * ESPEAK_RATE)
        chunks.append(bytes(2 * n))
        samples += n

    turns: list[tuple[float, float, str]] = []
    answers: dict[str, tuple[float, float]] = {}
    said: dict[str, list[str]] = {}
    names: list[str] = []
    current: str | None = None
    silence(LEAD_S)
    for i, (line, pcm) in enumerate(zip(interview.lines, pcms, strict=True)):
        if i:
            silence(rng.uniform(*PAUSE_S))
        start = samples / ESPEAK_RATE
        chunks.append(pcm)
        samples += len(pcm) // 2
        end = samples / ESPEAK_RATE
        turns.append((round(start, 4), round(end, 4), line.role))
        names += _names_in(line.text, interview.vocabulary)
        if line.role == "interviewer":
            if line.asks:
                current = line.asks
            elif not line.follow_up:  # a greeting or the closing ends the answer
                current = None
        elif current is not None:
            first = answers.get(current, (start, end))[0]
            answers[current] = (round(first, 4), round(end, 4))
            said.setdefault(current, []).append(line.text)
    silence(LEAD_S)
    audio = AudioSegment(b"".join(chunks), frame_rate=ESPEAK_RATE, sample_width=2, channels=1)
    audio = audio.set_frame_rate(SAMPLE_RATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "wav":
        audio.export(path, format="wav")
    else:
        audio.export(path, format="ipod", codec="aac", bitrate="64k")
    return Truth(turns, answers, "\n".join(ln.text for ln in interview.lines),
                 {q: " ".join(t) for q, t in said.items()}, names,
                 round(len(audio.raw_data) / 2 / SAMPLE_RATE, 4))


# ------------------------------------------------------------------------------ engagements

def engagement(n: int, seed: int = 0, length_s: float | Sequence[float] = 30, *,
               n_questions: int = 3) -> tuple[list[str], list[ScriptedInterview]]:
    """``n`` interviews sharing ``n_questions`` canonical questions, each with its own
    executive (most at one client company, some at its customers and partners) and the voice
    pairs in turn. ``length_s``: one length, or several used in turn."""
    rng = Random(f"engagement-{seed}")
    questions = [t.question for t in rng.sample(TOPICS, n_questions)]
    lengths = [length_s] if isinstance(length_s, int | float) else list(length_s)
    client = rng.choice(COMPANIES)
    pairs = list(range(len(VOICE_PAIRS)))
    rng.shuffle(pairs)
    taken: set[str] = set()
    interviews = []
    for i in range(n):
        pair = pairs[i % len(pairs)]
        gender = VOICE_PAIRS[pair][1].gender
        firsts = [f for f, g in FIRST_NAMES if g == gender]
        name = next(nm for nm in (f"{rng.choice(firsts)} {rng.choice(LAST_NAMES)}"
                                  for _ in range(10_000)) if nm not in taken)
        taken.add(name)
        company = client if rng.random() < 0.6 else None
        interviews.append(_script(seed * 1000 + i, lengths[i % len(lengths)], questions, pair,
                                  name=name, company=company))
    return questions, interviews


def _form(interview: ScriptedInterview, ref: str, date: datetime.date) -> dict:
    return {"engagement": ref, "executive": interview.executive,
            "interviewer": interview.interviewer_name, "date": date.isoformat(),
            "consent_to_record": True,
            "answers": [{"question": q} for q in interview.questions]}


def write_engagement(folder: Path, questions: Sequence[str],
                     interviews: Sequence[ScriptedInterview], *, client: str, engagement: str,
                     fmt: str = "wav", workers: int = 2,
                     with_vocabulary: bool = True) -> list[Truth]:
    """Write an engagement folder as a consultant uploads it: ``engagement.yaml``,
    ``exec-NN.<fmt>``, ``exec-NN.form.yaml`` (no answer spans: finding them is the task) and
    ``exec-NN.truth.json`` ({"interview": ..., "truth": ...}). ``with_vocabulary=False`` leaves
    ``vocabulary`` out of engagement.yaml, for an intake that does not know the field."""
    import yaml

    from deck_builder.interview_form import parse_form

    folder.mkdir(parents=True, exist_ok=True)
    companies = sorted({iv.executive["company"] for iv in interviews}
                       | {t for iv in interviews for t in iv.vocabulary if t in COMPANIES})
    vocabulary = list(dict.fromkeys(t for iv in interviews for t in iv.vocabulary))
    client_company = Counter(iv.executive["company"] for iv in interviews).most_common(1)
    title = f"{client_company[0][0]}: scripted interviews" if interviews else engagement
    doc = {"name": title, "expected_interviews": len(interviews),
           "questions": list(questions), "redact_terms": companies}
    if with_vocabulary:
        doc["vocabulary"] = vocabulary
    (folder / "engagement.yaml").write_text(yaml.safe_dump(doc, sort_keys=False,
                                                           allow_unicode=True))
    truths = []
    day = datetime.date(2026, 11, 2)
    for i, iv in enumerate(interviews, 1):
        stem = f"exec-{i:02d}"
        truth = render(iv, folder / f"{stem}.{fmt}", fmt=fmt, workers=workers)
        form = yaml.safe_dump(_form(iv, f"{client}/{engagement}",
                                    day + datetime.timedelta(days=i - 1)), sort_keys=False)
        parse_form(form.encode(), f"{stem}.form.yaml")  # raises if the form would be refused
        (folder / f"{stem}.form.yaml").write_text(form)
        (folder / f"{stem}.truth.json").write_text(
            json.dumps({"interview": asdict(iv), "truth": asdict(truth)}, indent=1))
        truths.append(truth)
    return truths


def load_truth(path: Path) -> tuple[ScriptedInterview, Truth]:
    """Read back an ``exec-NN.truth.json`` that :func:`write_engagement` wrote."""
    doc = json.loads(Path(path).read_text())
    iv, tr = doc["interview"], doc["truth"]
    interview = ScriptedInterview(**{
        **iv, "questions": tuple(iv["questions"]), "vocabulary": tuple(iv["vocabulary"]),
        "lines": tuple(Line(**ln) for ln in iv["lines"]),
        "points": {q: tuple(p) for q, p in iv["points"].items()}})
    truth = Truth(**{**tr, "turns": [tuple(t) for t in tr["turns"]],
                     "answers": {q: tuple(span) for q, span in tr["answers"].items()}})
    return interview, truth


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scripted", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder to write the engagement to")
    p.add_argument("--n", type=int, default=30, help="interviews (default 30)")
    p.add_argument("--lengths", default="30",
                   help="target seconds, comma-separated, used in turn (default 30)")
    p.add_argument("--questions", type=int, default=3, help="engagement questions (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fmt", choices=("wav", "m4a"), default="wav")
    p.add_argument("--client", default="bench")
    p.add_argument("--engagement", default="scripted")
    p.add_argument("--workers", type=int, default=2, help="espeak-ng processes (default 2)")
    p.add_argument("--no-vocabulary", action="store_true",
                   help="leave vocabulary out of engagement.yaml")
    a = p.parse_args(argv)
    lengths = [float(x) for x in a.lengths.split(",") if x.strip()]
    questions, interviews = engagement(a.n, a.seed, lengths, n_questions=a.questions)
    started = time.perf_counter()
    truths = write_engagement(a.out, questions, interviews, client=a.client,
                              engagement=a.engagement, fmt=a.fmt, workers=a.workers,
                              with_vocabulary=not a.no_vocabulary)
    wall = time.perf_counter() - started
    audio = sum(t.duration for t in truths)
    print("| file | target s | audio s | lines | questions answered | voices |")
    print("|---|---|---|---|---|---|")
    for i, (iv, t) in enumerate(zip(interviews, truths, strict=True), 1):
        print(f"| exec-{i:02d}.{a.fmt} | {iv.length_s:.0f} | {t.duration:.1f} | "
              f"{len(iv.lines)} | {len(t.answers)} | {iv.interviewer_voice} / "
              f"{iv.executive_voice} |")
    print(f"\n{len(truths)} interviews, {audio / 60:.1f} min of audio in {wall:.1f} s "
          f"({audio / wall:.0f}x real time) -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
