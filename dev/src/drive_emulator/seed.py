"""Sample company documents of every kind the indexer reads, so `make dev` has something to search."""

from __future__ import annotations

import io
from typing import Any

from drive_emulator import samples
from drive_emulator.store import DriveFile, Group, SharedDrive, Store, User
from shared.mime import DOCUMENT, DOCX, FOLDER, HTML, MARKDOWN, PDF, PLAIN_TEXT, PRESENTATION, SPREADSHEET

FOLDER_ID = "seed-company-handbook"
# Every My Drive file is owned by a sample user, so indexing each user's Drive finds them all:
# carol (people ops) keeps the handbook, alice the engineering pages.
DOMAIN_READERS: list[dict[str, Any]] = [
    {"type": "user", "role": "owner", "emailAddress": "carol@example.com"},
    {"type": "domain", "role": "reader", "domain": "example.com", "allowFileDiscovery": True},
]
ENGINEERING_ONLY: list[dict[str, Any]] = [
    {"type": "user", "role": "owner", "emailAddress": "alice@example.com"},
    {"type": "group", "role": "reader", "emailAddress": "engineering@example.com"},
]
CAROL = {"type": "user", "role": "owner", "emailAddress": "carol@example.com"}
SALES_DRIVE = SharedDrive(
    "seed-sales-drive",
    "Sales",
    members=[{"type": "group", "role": "writer", "emailAddress": "sales@example.com"}],
)


def pdf(title: str, paragraphs: list[str]) -> bytes:
    """Write a one-page PDF with a real text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"])]
    story += [Paragraph(text, styles["BodyText"]) for text in paragraphs]
    SimpleDocTemplate(buffer, pagesize=A4, title=title, invariant=True).build(story)
    return buffer.getvalue()


def docx(title: str, sections: dict[str, list[str]]) -> bytes:
    """Write a Word document with a title, headings and paragraphs."""
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading(title, level=0)
    for heading, paragraphs in sections.items():
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def sample_files() -> list[DriveFile]:
    """Build the sample folder and its documents."""
    inside = [FOLDER_ID]
    files = [
        DriveFile(FOLDER_ID, "Company Handbook", FOLDER, permissions=list(DOMAIN_READERS)),
        DriveFile("seed-onboarding-doc", "Employee Onboarding Guide", DOCUMENT, inside, samples.ONBOARDING),
        DriveFile(
            "seed-expense-sheet", "Expense Limits and Approvers", SPREADSHEET, inside, samples.EXPENSES
        ),
        DriveFile("seed-allhands-slides", "Q3 All-Hands", PRESENTATION, inside, samples.ALL_HANDS),
        DriveFile(
            "seed-travel-pdf",
            "Travel Policy.pdf",
            PDF,
            inside,
            pdf("Travel Policy", samples.TRAVEL_POLICY),
        ),
        DriveFile(
            "seed-security-docx",
            "Security Guidelines.docx",
            DOCX,
            inside,
            docx("Security Guidelines", samples.SECURITY),
        ),
        DriveFile("seed-oncall-html", "On-call Runbook.html", HTML, inside, samples.ON_CALL.encode()),
        DriveFile("seed-deploy-md", "Deploy Checklist.md", MARKDOWN, inside, samples.DEPLOY.encode()),
        DriveFile("seed-office-txt", "Office Facilities.txt", PLAIN_TEXT, inside, samples.OFFICE.encode()),
    ]
    for file in files[1:]:
        engineering = file.id in ("seed-oncall-html", "seed-deploy-md")
        file.permissions = list(ENGINEERING_ONLY if engineering else DOMAIN_READERS)
    return files


def shared_files() -> list[DriveFile]:
    """Files shared with some people only, so signing in as another sample user shows the difference."""
    people_ops = {"type": "group", "role": "reader", "emailAddress": "people-ops@example.com"}
    link_only = {"type": "anyone", "role": "reader", "allowFileDiscovery": False}
    public = {"type": "anyone", "role": "reader", "allowFileDiscovery": True}
    return [
        DriveFile(
            "seed-salary-sheet",
            "Salary Bands 2025",
            SPREADSHEET,
            content=samples.SALARY_BANDS,
            permissions=[CAROL, people_ops],
        ),
        DriveFile(
            "seed-reorg-doc",
            "Reorganisation Draft",
            DOCUMENT,
            content=samples.REORG_DRAFT,
            permissions=[CAROL, link_only],
        ),
        DriveFile(
            "seed-press-doc", "Press Kit", DOCUMENT, content=samples.PRESS_KIT, permissions=[CAROL, public]
        ),
        DriveFile(
            "seed-sales-playbook",
            "Sales Playbook",
            DOCUMENT,
            [SALES_DRIVE.id],
            samples.SALES_PLAYBOOK,
            drive_id=SALES_DRIVE.id,
            permissions=[],
        ),
    ]


def seed(store: Store) -> list[DriveFile]:
    """Add the samples once (users, groups, the Sales drive, files); seeding again returns what is there."""
    for email in samples.USERS:
        store.users.setdefault(email, User(email, email.partition("@")[0].title()))
    for email, members in samples.GROUPS.items():
        store.groups.setdefault(email, Group(email, email.partition("@")[0].title(), members=list(members)))
    if SALES_DRIVE.id not in store.drives:
        store.add_drive(SharedDrive(SALES_DRIVE.id, SALES_DRIVE.name, members=list(SALES_DRIVE.members)))
    files = sample_files() + shared_files()
    for file in files:
        if file.id not in store.files:
            store.add(file)
    return [store.files[file.id] for file in files if file.id in store.files]
