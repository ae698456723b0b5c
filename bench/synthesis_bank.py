"""Answers with known themes for bench/synthesis.py: six questions, five themes each, six
paraphrases per theme written to share as few words as possible (shared words alone cannot
group them). Paraphrases 0-2 are the tuning half, 3-5 the held-out half: the 12-interview
engagement uses the first, the 40-interview one the second.
"""

from __future__ import annotations

BANK: dict[str, dict[str, tuple[str, ...]]] = {
    "What is your biggest priority for next year?": {
        "service-revenue": (
            "Growing the recurring service business is number one for us.",
            "I want customers paying us every month to keep their machines running.",
            "Maintenance contracts have to become a far bigger share of what we earn.",
            "We need income that renews itself, subscriptions and support agreements.",
            "Selling the box once is not enough, the after-sales side must carry the company.",
            "My goal is annuity-like income from looking after the installed base.",
        ),
        "cost": (
            "Taking cost out of the operation, plain and simple.",
            "We spend too much to deliver too little, the margins are thin.",
            "Overheads grew faster than sales and I have to reverse that.",
            "Efficiency, every department will have a leaner budget.",
            "The expense base is bloated and we will cut it hard.",
            "Our spending must come down by a tenth without hurting customers.",
        ),
        "launch": (
            "Getting the new platform out of pilot and into real accounts.",
            "The product we have been building for two years finally has to ship.",
            "Our next release must land with customers before the summer.",
            "Bringing the new offering to market is what keeps me awake.",
            "We owe the market the launch we promised, no more delays.",
            "I want the fresh product line in the hands of buyers by spring.",
        ),
        "international": (
            "Expanding abroad, especially into Southeast Asia.",
            "We are opening offices in two new countries next year.",
            "Most of our growth has to come from outside our home market.",
            "Going global, we are far too dependent on domestic buyers.",
            "Entering foreign markets where nobody knows our name yet.",
            "I am pushing hard for export growth and overseas partners.",
        ),
        "acquisition": (
            "Closing the acquisition of a smaller competitor we have been courting.",
            "Buying a rival to gain scale is top of my list.",
            "We are negotiating a takeover that would double our footprint.",
            "An acquisition, we have a target and the financing lined up.",
            "Merging with another firm in our niche is the big move.",
            "I want us to purchase a company that brings new customers overnight.",
        ),
    },
    "What is the biggest obstacle to your strategy?": {
        "talent": (
            "We simply cannot hire enough skilled engineers.",
            "Finding qualified people is the hardest part of my job.",
            "Every good candidate has three offers and we lose most of them.",
            "Our vacancies stay open for months, the labour market is brutal.",
            "Recruiting and keeping experts is where we fall short.",
            "There are not enough trained technicians to go around.",
        ),
        "legacy-it": (
            "Our old computer systems make every change painfully slow.",
            "The back office runs on software from the nineties.",
            "We are held together by spreadsheets and manual data entry.",
            "Outdated technology blocks us, a simple report takes weeks.",
            "The mainframe nobody understands is the real bottleneck.",
            "Our tools are ancient and integrating anything new is a nightmare.",
        ),
        "silos": (
            "Departments do not talk to each other, everyone guards their turf.",
            "Sales and operations pull in opposite directions.",
            "The divisions compete internally instead of working together.",
            "Nobody shares information across teams, it stays in silos.",
            "Our business units optimise for themselves, not for the group.",
            "Internal politics, each function defends its own budget.",
        ),
        "regulation": (
            "New rules from the regulator keep changing what we may sell.",
            "Compliance requirements eat a huge amount of our capacity.",
            "The licensing process takes years in some jurisdictions.",
            "Government policy is unpredictable and that freezes investment.",
            "Every product needs approval and the authorities are slow.",
            "Legal constraints, privacy law in particular, limit what we can do with data.",
        ),
        "funding": (
            "We do not have the cash to fund everything we want.",
            "Money, the banks tightened credit and our budget is frozen.",
            "Financing is the constraint, investors want returns before growth.",
            "Capital is scarce, we have to choose one project out of five.",
            "Our balance sheet cannot carry the investment the plan needs.",
            "Liquidity, frankly, we live quarter to quarter on working capital.",
        ),
    },
    "How do customers see us compared with competitors?": {
        "expensive": (
            "They think we are too expensive.",
            "Buyers tell us our prices are well above the market.",
            "We lose deals because rivals undercut us by a fifth.",
            "Procurement always asks why we cost so much more.",
            "Our quotes look steep next to the alternatives.",
            "Clients see premium pricing and walk away.",
        ),
        "quality": (
            "They trust our quality, our machines simply do not break.",
            "Reliability is what people praise, the equipment lasts for decades.",
            "Customers say we build the sturdiest products in the industry.",
            "Our reputation for engineering excellence is very strong.",
            "People know our gear works, year after year, without trouble.",
            "The durability of what we make is our best sales argument.",
        ),
        "slow": (
            "They find us slow to respond when something goes wrong.",
            "Our support takes days to call back, competitors answer within hours.",
            "Delivery times are long and clients complain about waiting.",
            "We are seen as sluggish, decisions and quotes take forever.",
            "Response time is our weak spot, tickets sit in a queue.",
            "Customers wait weeks for spare parts that rivals ship overnight.",
        ),
        "unknown": (
            "Honestly, many prospects have never heard of us.",
            "Our brand is invisible outside a small circle of loyal buyers.",
            "Awareness is low, we do almost no marketing.",
            "People confuse us with another firm with a similar name.",
            "Nobody outside the trade knows who we are.",
            "We are a well-kept secret, which is not a compliment.",
        ),
        "partner": (
            "They see us as a true partner who understands their business.",
            "Clients value that our engineers sit with them and solve problems together.",
            "We are the advisor they call first, not just a supplier.",
            "The relationship is close, they invite us into their planning.",
            "Buyers say we listen better than anyone else in the market.",
            "Our account teams are treated almost like colleagues by the client.",
        ),
    },
    "Where should we invest in technology?": {
        "data": (
            "In data and analytics, we sit on information we never use.",
            "A proper data platform so that decisions rest on facts.",
            "Dashboards and reporting, we fly blind today.",
            "Business intelligence, to see margins per customer in real time.",
            "Collecting and analysing machine telemetry across the fleet.",
            "We need one source of truth for numbers instead of ten versions.",
        ),
        "automation": (
            "Robots on the production line, to raise output per shift.",
            "Automating the warehouse, picking and packing by machine.",
            "Factory automation, our plants still rely on manual handling.",
            "Self-driving forklifts and conveyor systems in logistics.",
            "Mechanising the repetitive assembly work on the shop floor.",
            "Industrial robotics, so that we can run the plant at night.",
        ),
        "security": (
            "Cybersecurity, a ransomware attack would stop us for weeks.",
            "Protecting our networks from hackers is overdue.",
            "We were breached last year and the defences are still weak.",
            "Information security, the audit found serious gaps.",
            "Guarding customer data against theft and intrusion.",
            "Firewalls, monitoring and training against phishing.",
        ),
        "ecommerce": (
            "An online shop where customers order spare parts themselves.",
            "A self-service web portal so buyers stop phoning and emailing.",
            "Digital sales channels, the catalogue must be orderable on the internet.",
            "E-commerce, our competitors already sell through their websites.",
            "A customer app to track orders, invoices and deliveries.",
            "Letting clients buy from us around the clock through a digital storefront.",
        ),
        "ai": (
            "Artificial intelligence for predicting when equipment will fail.",
            "Machine learning models to forecast demand more precisely.",
            "Generative assistants that draft proposals for our sales people.",
        ),
    },
    "How would you describe the culture?": {
        "risk-averse": (
            "Cautious, people are afraid to make mistakes.",
            "Nobody wants to take a chance, failure is punished here.",
            "We play it safe, new ideas die in committees.",
            "Conservative to a fault, we wait until others have tried it.",
            "Employees avoid risk because blame travels fast.",
            "It is a careful place, we prefer the proven path to experiments.",
        ),
        "family": (
            "Like a family, people look out for each other.",
            "Warm and loyal, many staff have been with us for thirty years.",
            "Colleagues help one another without being asked.",
            "There is a strong sense of belonging and mutual support.",
            "Friendly and close-knit, everybody knows everybody.",
            "Teammates genuinely care about one another, it feels like home.",
        ),
        "hierarchical": (
            "Very top-down, every decision goes up to the board.",
            "Hierarchy rules, juniors wait for permission from their managers.",
            "Approvals need five signatures, the chain of command is long.",
            "Power sits at headquarters and the regions just execute.",
            "Bosses decide and staff follow, there is little delegation.",
            "Rank matters more than arguments in our meetings.",
        ),
        "overloaded": (
            "Exhausted, people are stretched far too thin.",
            "Burnout is real, the workload has doubled since the restructuring.",
            "Everyone is running from one fire to the next without a break.",
            "Teams work late every evening and morale is suffering.",
            "Stress levels are high, we have lost good people to fatigue.",
            "There is too much on each plate and nobody can say no.",
        ),
        "entrepreneurial": (
            "Entrepreneurial, people start things without waiting for approval.",
        ),
    },
    "What is your one message for the board?": {
        "people": (
            "Invest in our people, training is not a cost.",
            "Fund skills development or the strategy will not happen.",
            "Put money into developing staff before buying more machines.",
            "Our employees need education budgets and career paths.",
            "Upskilling the workforce should be the board's first commitment.",
            "Back the teams with coaching and learning programmes.",
        ),
        "patience": (
            "Be patient, the transformation takes years, not quarters.",
            "Stop judging us on quarterly results while we rebuild.",
            "Give the plan time, the payoff comes in year three.",
            "Long-term thinking, please, short-term targets kill the change.",
            "Hold your nerve, the numbers dip before they recover.",
            "Let the turnaround run its course before demanding returns.",
        ),
        "focus": (
            "Focus, we have twenty priorities and that means none.",
            "Pick three initiatives and drop the rest.",
            "Fewer projects done well instead of everything half done.",
            "Kill the pet projects that dilute our attention.",
            "Concentrate the resources, we are spread across too many bets.",
            "Say no more often, the portfolio is far too broad.",
        ),
        "speed": (
            "Move faster, the market will not wait for us.",
            "Decide quicker, our competitors act in weeks, we take months.",
            "Speed up approvals, the delays cost us contracts.",
            "Urgency, we are too slow for a world that changes this quickly.",
            "Accelerate everything, hesitation is our biggest risk.",
            "Act now, waiting another year means falling behind for good.",
        ),
        "divest": (
            "Sell the struggling consumer division and use the money elsewhere.",
            "Divest the unit that has lost money for five years.",
            "Exit the retail business, it drags the whole group down.",
        ),
    },
}

#: said around a point; theme-neutral (five words and more, so they are grouped like points)
FILLERS = (
    "That is how I see it at the moment.",
    "We discuss this in every leadership meeting.",
    "I have thought about this quite a lot lately.",
    "It is not a new topic for us.",
    "My colleagues would probably say something similar.",
    "It came up again in our last strategy review.",
    "I could talk about this for an hour.",
    "You will hear the same from others, I suspect.",
)
OPENERS = ("Good question.", "Let me think.", "Well.", "Hmm, okay.", "Sure.")
SECOND = ("Beyond that,", "I would add that", "There is a second point:", "Also,")
#: answers with nothing to group
EMPTY = ("Hard to say.", "Not sure, really.", "No idea.", "Pass, sorry.")
