"""Scaffold plans written by hand: a CRM, a booking system, one full of awkward names, and the CRM
extended by an incremental build."""

from __future__ import annotations

import pytest

from mb_core.models import (
    Action,
    EntitySpec,
    FeatureKind,
    FeatureSpec,
    FieldSpec,
    FieldType,
    MigrationRevision,
    RelationKind,
    RelationSpec,
    RoleSpec,
    ScaffoldPlan,
)

ALL = [Action.create, Action.read, Action.update, Action.delete]
CRU = [Action.create, Action.read, Action.update]


def crm_plan() -> ScaffoldPlan:
    return ScaffoldPlan(
        app_name="crm",
        title="CRM",
        summary="Contacts and the deals made with them.",
        entities=[
            EntitySpec(
                name="contact",
                plural="contacts",
                fields=[
                    FieldSpec(name="name", required=True, max_length=120, searchable=True),
                    FieldSpec(name="email", type=FieldType.email, pii=True, unique=True, searchable=True),
                    FieldSpec(name="phone", type=FieldType.phone, pii=True),
                    FieldSpec(name="company", max_length=120, searchable=True),
                ],
            ),
            EntitySpec(
                name="deal",
                plural="deals",
                fields=[
                    FieldSpec(name="title", required=True, max_length=200, searchable=True),
                    FieldSpec(name="amount", type=FieldType.decimal, min_value=0),
                    FieldSpec(name="stage", type=FieldType.enum, choices=["open", "won", "lost"], default="open"),
                ],
            ),
        ],
        relations=[RelationSpec(kind=RelationKind.one_to_many, parent="contact", child="deal", required=True)],
        roles=[
            RoleSpec(name="admin", permissions={"*": ALL}),
            RoleSpec(name="sales", permissions={"contact": CRU, "deal": CRU}),
            RoleSpec(name="viewer", permissions={"*": [Action.read]}),
        ],
        features=[
            FeatureSpec(kind=FeatureKind.search, entity="contact"),
            FeatureSpec(kind=FeatureKind.search, entity="deal"),
            FeatureSpec(
                kind=FeatureKind.status_workflow,
                entity="deal",
                options={"field": "stage", "states": ["open", "won", "lost"], "transitions": {"open": ["won", "lost"]}},
            ),
            FeatureSpec(kind=FeatureKind.csv_export, entity="contact"),
            FeatureSpec(kind=FeatureKind.reports, entity="deal", options={"group_by": "stage", "sum": ["amount"]}),
        ],
        migrations=[MigrationRevision(revision="0001", message="create contacts and deals", tables=["contact", "deal"])],
    )


def crm_extended_plan() -> ScaffoldPlan:
    """The CRM plus invoices linked to deals, a deal priority and a contact's notes, as revision 0002."""
    plan = crm_plan().model_copy(deep=True)
    plan.entities[0].fields.append(FieldSpec(name="notes", type=FieldType.text))
    plan.entities[1].fields.append(FieldSpec(name="priority", type=FieldType.integer, min_value=1, max_value=5))
    plan.entities.append(
        EntitySpec(
            name="invoice",
            plural="invoices",
            fields=[
                FieldSpec(name="number", required=True, unique=True, max_length=30, searchable=True),
                FieldSpec(name="total", type=FieldType.decimal, required=True, min_value=0),
                FieldSpec(name="due_on", type=FieldType.date),
                FieldSpec(name="paid", type=FieldType.boolean, default="false"),
            ],
        )
    )
    plan.relations.append(RelationSpec(kind=RelationKind.one_to_many, parent="deal", child="invoice", required=True))
    plan.roles[1].permissions["invoice"] = [Action.read]
    plan.features.append(FeatureSpec(kind=FeatureKind.reports, entity="invoice"))
    plan.migrations.append(
        MigrationRevision(
            revision="0002",
            message="add invoices",
            tables=["invoice"],
            columns={"contact": ["notes"], "deal": ["priority"]},
        )
    )
    plan.base_build_id = "b-crm-1"
    return plan


def booking_plan() -> ScaffoldPlan:
    return ScaffoldPlan(
        app_name="rooms",
        title="Room booking",
        entities=[
            EntitySpec(
                name="room",
                plural="rooms",
                fields=[
                    FieldSpec(name="name", required=True, max_length=80, searchable=True),
                    FieldSpec(name="capacity", type=FieldType.integer, min_value=1, max_value=500),
                    FieldSpec(name="website", type=FieldType.url),
                ],
            ),
            EntitySpec(
                name="booking",
                plural="bookings",
                fields=[
                    FieldSpec(name="purpose", required=True, max_length=200),
                    FieldSpec(name="starts_at", type=FieldType.datetime, required=True),
                    FieldSpec(name="ends_at", type=FieldType.datetime, required=True),
                    FieldSpec(name="guest_email", type=FieldType.email, pii=True),
                ],
            ),
            EntitySpec(name="equipment", plural="equipment_items", fields=[FieldSpec(name="label", required=True)]),
        ],
        relations=[
            RelationSpec(kind=RelationKind.one_to_many, parent="room", child="booking", required=True),
            RelationSpec(kind=RelationKind.many_to_many, parent="booking", child="equipment"),
        ],
        roles=[
            RoleSpec(name="manager", permissions={"*": ALL}),
            RoleSpec(name="staff", permissions={"booking": CRU, "room": [Action.read], "equipment": [Action.read]}),
        ],
        features=[
            FeatureSpec(
                kind=FeatureKind.scheduling, entity="booking",
                options={"start": "starts_at", "end": "ends_at", "resource": "room_id"},
            ),
            FeatureSpec(kind=FeatureKind.assignment, entity="booking"),
            FeatureSpec(kind=FeatureKind.reports, entity="room", options={"sum": ["capacity"]}),
        ],
        migrations=[
            MigrationRevision(
                revision="0001", message="create rooms, bookings and equipment",
                tables=["room", "booking", "equipment"], link_tables=["booking_equipment"],
            )
        ],
    )


def awkward_plan() -> ScaffoldPlan:
    """Entity and field names that are Python keywords, SQL reserved words or library attributes."""
    return ScaffoldPlan(
        app_name="school",
        title="School",
        entities=[
            EntitySpec(
                name="class",
                plural="classes",
                fields=[
                    FieldSpec(name="from", type=FieldType.date, required=True),
                    FieldSpec(name="type", type=FieldType.enum, choices=["lecture", "lab", "seminar"], required=True),
                    FieldSpec(name="order", type=FieldType.integer),
                    FieldSpec(name="json", searchable=True, max_length=50),
                    FieldSpec(name="metadata", type=FieldType.text),
                    FieldSpec(name="id"),  # the same as the built-in id column: dropped
                ],
            ),
            EntitySpec(
                name="order",
                plural="orders",
                fields=[
                    FieldSpec(name="date", type=FieldType.datetime),
                    FieldSpec(name="select", type=FieldType.boolean, required=True),
                    FieldSpec(name="where", max_length=40, pii=True),
                    FieldSpec(name="status", type=FieldType.enum, choices=["new", "done"]),
                ],
            ),
            EntitySpec(name="user", plural="users", fields=[FieldSpec(name="group", required=True, unique=True)]),
            EntitySpec(name="session", plural="sessions", fields=[FieldSpec(name="import", type=FieldType.integer)]),
        ],
        relations=[
            RelationSpec(kind=RelationKind.one_to_many, parent="class", child="order"),
            RelationSpec(kind=RelationKind.one_to_many, parent="user", child="order", required=True),
            RelationSpec(kind=RelationKind.many_to_many, parent="user", child="class"),
        ],
        roles=[RoleSpec(name="admin", permissions={"*": ALL})],
        features=[
            FeatureSpec(kind=FeatureKind.status_workflow, entity="order"),
            FeatureSpec(kind=FeatureKind.csv_export, entity="class"),
            FeatureSpec(kind=FeatureKind.reports, entity="class"),
            FeatureSpec(kind=FeatureKind.search, entity="class"),
        ],
    )


def job_board_plan() -> ScaffoldPlan:
    """Search over an unbounded text column, a money column that is personal data, a bare report."""
    return ScaffoldPlan(
        app_name="job_board",
        title="Job Board",
        entities=[
            EntitySpec(
                name="job",
                plural="jobs",
                fields=[
                    FieldSpec(name="title", required=True, max_length=200),
                    FieldSpec(name="description", type=FieldType.text, required=True, searchable=True),
                    FieldSpec(name="salary", type=FieldType.decimal, pii=True, min_value=0),
                ],
            ),
            EntitySpec(name="company", plural="companies",
                       fields=[FieldSpec(name="name", required=True, max_length=120)]),
        ],
        relations=[RelationSpec(kind=RelationKind.one_to_many, parent="company", child="job")],
        roles=[RoleSpec(name="admin", permissions={"*": ALL})],
        features=[
            FeatureSpec(kind=FeatureKind.search, entity="job"),
            FeatureSpec(kind=FeatureKind.reports, entity="job"),
        ],
    )


def rules_plan() -> ScaffoldPlan:
    """One of each rule: capacity, date order, value range, due/overdue, per-parent and monthly
    reports, a workflow with named actions for named roles, choices and uniqueness."""
    return ScaffoldPlan(
        app_name="studio",
        title="Studio",
        entities=[
            EntitySpec(name="member", plural="members", fields=[
                FieldSpec(name="name", required=True, max_length=80),
                FieldSpec(name="email", type=FieldType.email, unique=True, required=True),
                FieldSpec(name="level", type=FieldType.enum, choices=["starter", "regular", "expert"], required=True),
            ]),
            EntitySpec(name="class_session", plural="class_sessions", fields=[
                FieldSpec(name="title", required=True, max_length=80),
                FieldSpec(name="capacity", type=FieldType.integer, min_value=1, max_value=40, required=True),
            ]),
            EntitySpec(name="enrollment", plural="enrollments", fields=[
                FieldSpec(name="note", max_length=120),
            ]),
            EntitySpec(name="payment", plural="payments", fields=[
                FieldSpec(name="reference", required=True, max_length=40),
                FieldSpec(name="amount", type=FieldType.decimal, required=True),
                FieldSpec(name="paid_on", type=FieldType.date, required=True),
                FieldSpec(name="rating", type=FieldType.integer),
            ]),
            EntitySpec(name="rental", plural="rentals", fields=[
                FieldSpec(name="item", required=True, max_length=80),
                FieldSpec(name="starts_on", type=FieldType.date, required=True),
                FieldSpec(name="ends_on", type=FieldType.date, required=True),
                FieldSpec(name="due_on", type=FieldType.date, required=True),
                FieldSpec(name="returned", type=FieldType.boolean, default="false"),
            ]),
            EntitySpec(name="leave_request", plural="leave_requests", fields=[
                FieldSpec(name="reason", required=True, max_length=120),
                FieldSpec(name="status", type=FieldType.enum, choices=["pending", "approved", "rejected"]),
            ]),
        ],
        relations=[
            RelationSpec(kind=RelationKind.one_to_many, parent="class_session", child="enrollment", required=True),
            RelationSpec(kind=RelationKind.one_to_many, parent="member", child="enrollment", required=True),
            RelationSpec(kind=RelationKind.one_to_many, parent="member", child="payment", required=True),
            RelationSpec(kind=RelationKind.one_to_many, parent="member", child="leave_request"),
        ],
        roles=[
            RoleSpec(name="admin", permissions={"*": ALL}),
            RoleSpec(name="manager", permissions={"*": [Action.read], "leave_request": [Action.read, Action.update]}),
            RoleSpec(name="staff", permissions={"*": [Action.read], "leave_request": [Action.create, Action.read],
                                                "enrollment": CRU}),
        ],
        features=[
            FeatureSpec(kind=FeatureKind.capacity, entity="enrollment",
                        options={"parent": "class_session", "limit_field": "capacity"}),
            FeatureSpec(kind=FeatureKind.date_order, entity="rental", options={"start": "starts_on", "end": "ends_on"}),
            FeatureSpec(kind=FeatureKind.due_overdue, entity="rental", options={"due": "due_on", "done_field": "returned"}),
            FeatureSpec(kind=FeatureKind.value_range, entity="payment", options={"field": "rating", "min": 1, "max": 5}),
            FeatureSpec(kind=FeatureKind.reports, entity="payment",
                        options={"group_by": "member", "measure": "amount", "agg": "sum", "period": "month",
                                 "date": "paid_on"}),
            FeatureSpec(kind=FeatureKind.status_workflow, entity="leave_request", options={
                "field": "status", "states": ["pending", "approved", "rejected"],
                "actions": {"approve": {"from": ["pending"], "to": "approved", "roles": ["manager"]},
                            "reject": {"from": ["pending"], "to": "rejected", "roles": ["manager"]}}}),
            FeatureSpec(kind=FeatureKind.csv_export, entity="payment"),
        ],
    )


PLANS = {"rules": rules_plan, "crm": crm_plan, "booking": booking_plan, "awkward": awkward_plan,
         "crm_extended": crm_extended_plan, "job_board": job_board_plan}


@pytest.fixture(params=sorted(PLANS))
def any_plan(request) -> ScaffoldPlan:
    return PLANS[request.param]()
