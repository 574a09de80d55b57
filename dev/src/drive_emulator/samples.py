"""The words inside the sample documents: short, realistic company knowledge."""

from typing import Any

ONBOARDING = """# Employee Onboarding Guide

Welcome to Example Corp! This guide walks you through your first two weeks.

## Before your first day

- Sign your contract and the confidentiality agreement in the HR portal.
- Pick up your laptop from the IT desk on the 2nd floor, or ask for it to be shipped home.
- Activate your account at https://id.example.com with the code from your welcome email.

## Your first week

Your manager books a **welcome meeting** on day one and assigns an onboarding buddy.
Complete the security awareness course within five working days; access to production
systems is granted only after it is done.

### Tools you will use

- Email, calendar and Drive in Google Workspace.
- Chat in the #welcome channel; ask anything there.
- Tickets for IT problems at https://help.example.com.

## Benefits and time off

You accrue 25 days of paid vacation per year. Request time off in the HR portal at least two
weeks ahead for absences longer than three days. Health insurance starts on your first day.
"""

EXPENSES: dict[str, list[list[Any]]] = {
    "Limits": [
        ["Category", "Limit (EUR)", "Receipt required", "Notes"],
        ["Hotel per night", 180, "yes", "Capital cities up to 250"],
        ["Meals per day", 60, "yes", "Alcohol is not reimbursed"],
        ["Taxi / ride share", 80, "yes", "Prefer public transport"],
        ["Home office equipment (yearly)", 500, "yes", "Chair, monitor, keyboard"],
        ["Books and courses (yearly)", 1000, "yes", "Ask your manager first"],
    ],
    "Approvers": [
        ["Amount (EUR)", "Approver"],
        ["up to 500", "Team manager"],
        ["500 to 5000", "Department head"],
        ["over 5000", "CFO"],
    ],
}

ALL_HANDS = [
    "Q3 All-Hands\nWhere we are and where we go next",
    "Highlights\nRevenue up 18% quarter over quarter\nTwo new enterprise customers in the Nordics",
    "Product\nSearch across Drive launched to all teams\nMobile app beta opens in October",
    "People\n14 new colleagues joined; welcome!\nEngagement survey closes on 30 September",
    "Questions?\nAsk in #all-hands or in the anonymous form",
]

TRAVEL_POLICY = [
    "Book all business travel through the travel portal so that trips are insured and visible to "
    "the duty-of-care team.",
    "Economy class is the default for flights under six hours. Premium economy is allowed for "
    "longer flights; business class needs approval from a department head.",
    "Trains are preferred over flights for journeys under four hours.",
    "Submit travel expenses within 30 days of returning, with receipts attached. Per-diem rates "
    "follow the expense limits sheet.",
]

SECURITY = {
    "Passwords and accounts": [
        "Use the company password manager for every work account. Never reuse passwords.",
        "Two-factor authentication with a hardware key is mandatory for production access.",
    ],
    "Devices": [
        "Laptops must have disk encryption and automatic screen lock after five minutes.",
        "Report a lost or stolen device to security@example.com within one hour.",
    ],
    "Data handling": [
        "Customer data stays in approved systems. Do not copy it to personal drives or chats.",
        "Share documents with the narrowest audience that works; prefer groups over individuals.",
    ],
}

ON_CALL = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>On-call Runbook</title></head>
<body>
<h1>On-call Runbook</h1>
<p>The on-call engineer answers pages for the production platform, 24/7, in weekly rotations
that hand over on Monday at 10:00.</p>
<h2>When you are paged</h2>
<ol>
<li>Acknowledge the page within 5 minutes in the paging tool.</li>
<li>Open an incident channel named <code>#inc-YYYYMMDD-topic</code> for anything user-visible.</li>
<li>Check the service dashboards and recent deploys; roll back first, debug later.</li>
</ol>
<h2>Escalation</h2>
<p>If you cannot mitigate within 30 minutes, escalate to the secondary on-call and the incident
commander. Database incidents go to the data platform team.</p>
<h2>After the incident</h2>
<p>Write a blameless postmortem within five working days and add follow-up tickets.</p>
</body></html>
"""

DEPLOY = """# Deploy Checklist

1. Make sure the change is reviewed and CI is green on the main branch.
2. Announce the deploy in #deploys with the ticket link.
3. Deploy to staging and run the smoke tests.
4. Deploy to production during business hours only; no deploys on Fridays after 15:00.
5. Watch error rates and latency for 15 minutes; roll back if the error budget burns fast.

## Rollback

Run `make rollback VERSION=<previous>` and confirm the health checks pass.
"""

OFFICE = """Office Facilities

Wi-Fi: join "ExampleCorp" with your company account. Guests use "ExampleCorp-Guest"; the
password is posted at reception and changes every Monday.

The office is open from 07:00 to 20:00 on working days. Badge access works around the clock.
Meeting rooms are booked through the calendar; release rooms you do not need.

Printers are on every floor next to the kitchens. For broken equipment, open an IT ticket.
"""

# Who `make dev` lets you be, and what each of them can find beyond the company-wide handbook:
# alice is an engineer (engineering@ through platform@: nested groups), bob sells (the Sales
# shared drive), carol runs people operations (salary bands, a draft shared by link only).
USERS = ("alice@example.com", "bob@example.com", "carol@example.com")

GROUPS: dict[str, list[dict[str, str]]] = {
    "engineering@example.com": [{"email": "platform@example.com", "type": "GROUP"}],
    "platform@example.com": [{"email": "alice@example.com", "type": "USER"}],
    "sales@example.com": [{"email": "bob@example.com", "type": "USER"}],
    "people-ops@example.com": [{"email": "carol@example.com", "type": "USER"}],
}

SALARY_BANDS: dict[str, list[list[Any]]] = {
    "Bands": [
        ["Level", "Title", "Salary band (EUR)"],
        ["L1", "Associate", "42,000 - 52,000"],
        ["L2", "Professional", "52,000 - 68,000"],
        ["L3", "Senior", "68,000 - 88,000"],
        ["L4", "Staff", "88,000 - 115,000"],
    ],
}

REORG_DRAFT = """# Reorganisation draft (confidential)

The support and customer success teams merge into one Customer Experience department from
January. Team leads keep their reports; the combined department reports to the COO.
"""

PRESS_KIT = """# Press kit

Example Corp builds tools that help teams find what they know. Founded in 2019, headquartered
in Lisbon, 240 employees. For interviews write to press@example.com.
"""

SALES_PLAYBOOK = """# Sales playbook

## Qualifying a lead
Ask about the team size, where their documents live today and who signs the contract.

## Discounts
Standard discount is up to 10 % for annual prepayment; anything above needs the sales director.
"""
