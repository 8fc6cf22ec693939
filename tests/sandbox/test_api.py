"""The stand-in Nexudus API: shapes, paging, filters, sorting, batch, as Nexudus documents them
(https://developers.nexudus.com/reference)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from sandbox import services
from sandbox.fake.accounts import SECRET_MARKER
from sandbox.models import CoworkerMessage, EmailAccount
from sandbox.resources.accounts import ACCOUNTS
from sandbox.resources.businesses import BUSINESSES
from sandbox.resources.messages import MESSAGES

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

ENVELOPE_KEYS = {
    "Records", "CurrentPage", "CurrentPageSize", "CurrentOrderField", "CurrentSortDirection",
    "FirstItem", "LastItem", "TotalItems", "TotalPages", "HasNextPage", "HasPreviousPage",
}
MESSAGE_KEYS = {
    "CoworkerId", "CoworkerFullName", "CoworkerEmail", "CoworkerBillingName", "CoworkerCompanyName",
    "EmailAccountId", "EmailAccountDisplayName", "EmailAccountEmailAddress", "Subject", "Body",
    "IsNewMessage", "Incoming", "MessageId", "ReminderUniqueId", "Id", "UniqueId", "CreatedOn",
    "UpdatedOn", "UpdatedBy", "IsNew", "SystemId", "ToStringText", "LocalizationDetails", "CustomFields",
}
ACCOUNT_KEYS = {
    "BusinessId", "DisplayName", "EmailAddress", "Active", "SendNotificationOnNewMessages",
    "NotificationEmailAddress", "IncomingServer", "IncomingServerType", "IncomingServerPort",
    "IncomingServerSSL", "IncomingServerUsername", "DeleteMessageSettings", "OutgoingServer",
    "OutgoingServerPort", "OutgoingServerSSL", "OutgoingServerUsername", "ReplyToEmail",
    "LastCheckTime", "LastMessageId", "ErrorCount", "GoogleAccessToken", "Office365AccessToken",
    "Id", "UniqueId", "CreatedOn", "UpdatedOn", "UpdatedBy", "IsNew", "SystemId", "ToStringText",
    "LocalizationDetails", "CustomFields",
}


def all_records(api, path: str, **params) -> list[dict]:
    records, page = [], 1
    while True:
        data = api(path, page=page, **params).json()
        records += data["Records"]
        if not data["HasNextPage"]:
            return records
        page += 1


class TestMessageList:
    def test_envelope_and_record_shape(self, sandbox_data, api):
        data = api("spaces/coworkermessages").json()
        assert set(data) == ENVELOPE_KEYS
        assert data["CurrentPage"] == 1
        assert data["CurrentPageSize"] == 25  # documented default
        assert data["CurrentOrderField"] == "Id"
        assert data["CurrentSortDirection"] == 1
        assert data["TotalItems"] == 400
        assert data["TotalPages"] == 16
        assert (data["FirstItem"], data["LastItem"]) == (1, 25)
        assert data["HasNextPage"] is True and data["HasPreviousPage"] is False
        record = data["Records"][0]
        assert set(record) == MESSAGE_KEYS
        assert record["LocalizationDetails"] is None and record["CustomFields"] is None
        assert record["CreatedOn"].endswith("Z") and len(record["CreatedOn"]) == len("2025-01-15T10:30:00Z")
        row = CoworkerMessage.objects.get(id=record["Id"])
        assert record["CreatedOn"] == row.created_on.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert record["Subject"] == row.subject and record["Body"] == row.body
        assert record["ToStringText"] == (row.subject or "")

    def test_paging_walks_every_record_once(self, sandbox_data, api):
        records = all_records(api, "spaces/coworkermessages", size=70)
        ids = [r["Id"] for r in records]
        assert ids == sorted(CoworkerMessage.objects.values_list("id", flat=True))
        last = api("spaces/coworkermessages", size=70, page=6).json()
        assert (last["FirstItem"], last["LastItem"], last["TotalPages"]) == (351, 400, 6)
        assert last["HasNextPage"] is False and last["HasPreviousPage"] is True

    def test_page_past_the_end_is_empty(self, sandbox_data, api):
        data = api("spaces/coworkermessages", size=100, page=9).json()
        assert data["Records"] == [] and data["HasNextPage"] is False and data["FirstItem"] == 0

    @override_settings(SANDBOX_MAX_PAGE_SIZE=150)
    def test_size_is_capped_and_the_cap_is_reported(self, sandbox_data, api):
        data = api("spaces/coworkermessages", size=100000).json()
        assert data["CurrentPageSize"] == 150
        assert len(data["Records"]) == 150
        assert data["TotalPages"] == math.ceil(400 / 150)

    @pytest.mark.parametrize("field,column", [("Id", "id"), ("CreatedOn", "created_on"), ("UpdatedOn", "updated_on")])
    @pytest.mark.parametrize("direction", [1, 0, -1])
    def test_sort(self, sandbox_data, api, field, column, direction):
        data = api("spaces/coworkermessages", orderBy=field, dir=direction, size=400).json()
        assert data["CurrentOrderField"] == field and data["CurrentSortDirection"] == direction
        ids = [r["Id"] for r in data["Records"]]
        expected = CoworkerMessage.objects.order_by(
            *(["-" + column, "-id"] if direction == -1 else [column, "id"])
        ).values_list("id", flat=True)
        assert ids == list(expected)

    def test_order_by_is_case_insensitive_and_echoed_canonically(self, sandbox_data, api):
        assert api("spaces/coworkermessages", orderBy="updatedon").json()["CurrentOrderField"] == "UpdatedOn"

    @pytest.mark.parametrize(
        "params,fragment",
        [
            ({"orderBy": "Body"}, "orderBy"),
            ({"dir": "2"}, "dir"),
            ({"dir": "up"}, "dir"),
            ({"size": "0"}, "size"),
            ({"size": "lots"}, "size"),
            ({"page": "0"}, "page"),
            ({"CoworkerMessage_IsNewMessage": "maybe"}, "CoworkerMessage_IsNewMessage"),
            ({"CoworkerMessage_Coworker": "abc"}, "CoworkerMessage_Coworker"),
            ({"from_CoworkerMessage_UpdatedOn": "yesterday"}, "YYYY-MM-DDTHH:mm"),
        ],
    )
    def test_bad_parameters_get_a_clear_400(self, sandbox_data, api, params, fragment):
        response = api("spaces/coworkermessages", **params)
        assert response.status_code == 400
        assert fragment in response.json()["Message"]

    def test_unknown_parameters_are_ignored(self, sandbox_data, api):
        assert api("spaces/coworkermessages", whatever="1").json()["TotalItems"] == 400

    def test_trailing_slash_lists_too(self, sandbox_data, api):
        assert api("spaces/coworkermessages/").json()["TotalItems"] == 400


class TestMessageFilters:
    @pytest.mark.parametrize(
        "param,column",
        [
            ("CoworkerMessage_IsNewMessage", "is_new_message"),
            ("CoworkerMessage_Incoming", "incoming"),
        ],
    )
    @pytest.mark.parametrize("value", [True, False])
    def test_boolean_filters(self, sandbox_data, api, param, column, value):
        records = all_records(api, "spaces/coworkermessages", size=500, **{param: str(value).lower()})
        expected = CoworkerMessage.objects.filter(**{column: value}).count()
        assert 0 < len(records) == expected
        assert {r[param.removeprefix("CoworkerMessage_")] for r in records} == {value}

    def test_equality_filters_on_customer_and_account(self, sandbox_data, api):
        sample = CoworkerMessage.objects.exclude(email_account_id=None).exclude(coworker_email=None).first()
        cases = {
            "CoworkerMessage_Coworker": (sample.coworker_id, "coworker_id"),
            "CoworkerMessage_Coworker_Email": (sample.coworker_email, "coworker_email"),
            "CoworkerMessage_Coworker_FullName": (sample.coworker_full_name, "coworker_full_name"),
            "CoworkerMessage_EmailAccount": (sample.email_account_id, "email_account_id"),
            "CoworkerMessage_EmailAccount_EmailAddress": (sample.email_account_email_address, "email_account_email_address"),
            "CoworkerMessage_Subject": (sample.subject, "subject"),
            "Id": (sample.id, "id"),
            "UniqueId": (sample.unique_id, "unique_id"),
        }
        for param, (value, column) in cases.items():
            ids = {r["Id"] for r in all_records(api, "spaces/coworkermessages", size=500, **{param: value})}
            assert ids == set(CoworkerMessage.objects.filter(**{column: value}).values_list("id", flat=True)), param
            assert sample.id in ids

    def test_message_id_filters(self, sandbox_data, api):
        automated = CoworkerMessage.objects.exclude(message_id=None).first()
        data = api("spaces/coworkermessages", CoworkerMessage_MessageId=automated.message_id, size=500).json()
        assert data["Records"] and {r["MessageId"] for r in data["Records"]} == {automated.message_id}
        ranged = api("spaces/coworkermessages", from_CoworkerMessage_MessageId=7, to_CoworkerMessage_MessageId=8, size=500)
        assert {r["MessageId"] for r in ranged.json()["Records"]} <= {7, 8}

    def test_filters_combine(self, sandbox_data, api):
        records = all_records(
            api, "spaces/coworkermessages", size=500, CoworkerMessage_Incoming="true", CoworkerMessage_IsNewMessage="true"
        )
        assert len(records) == CoworkerMessage.objects.filter(incoming=True, is_new_message=True).count() > 0

    @pytest.mark.parametrize("field,column", [("CreatedOn", "created_on"), ("UpdatedOn", "updated_on")])
    def test_range_filters_are_inclusive_to_the_minute(self, sandbox_data, api, field, column):
        pivot = CoworkerMessage.objects.order_by(column)[200]
        moment = getattr(pivot, column)
        minute = moment.strftime("%Y-%m-%dT%H:%M")
        start = moment.replace(second=0)
        after = {r["Id"] for r in all_records(api, "spaces/coworkermessages", size=500, **{f"from_CoworkerMessage_{field}": minute})}
        before = {r["Id"] for r in all_records(api, "spaces/coworkermessages", size=500, **{f"to_CoworkerMessage_{field}": minute})}
        assert pivot.id in after and pivot.id in before  # both ends inclusive
        assert after == set(CoworkerMessage.objects.filter(**{f"{column}__gte": start}).values_list("id", flat=True))
        assert before == set(
            CoworkerMessage.objects.filter(**{f"{column}__lt": start + timedelta(minutes=1)}).values_list("id", flat=True)
        )

    def test_updated_since_sees_changes(self, sandbox_data, api):
        changed = services.message_ids()[:3]
        since = services.now().strftime("%Y-%m-%dT%H:%M")
        services.set_read(changed, False)
        data = api("spaces/coworkermessages", from_CoworkerMessage_UpdatedOn=since, orderBy="UpdatedOn").json()
        assert {r["Id"] for r in data["Records"]} == set(changed)
        assert all(r["IsNewMessage"] for r in data["Records"])


def query_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%dT%H:%M")
    return str(value)


@pytest.mark.parametrize(
    "resource,path",
    [(MESSAGES, "spaces/coworkermessages"), (ACCOUNTS, "crm/emailaccounts"), (BUSINESSES, "sys/businesses")],
    ids=["messages", "accounts", "businesses"],
)
def test_every_documented_filter_matches_the_database(sandbox_data, api, resource, path):
    """Each filter, with a value taken from a real row, answers exactly the rows the ORM finds."""
    assert len(ACCOUNTS.filters) == 2 + 22 + 2 * 7 and len(MESSAGES.filters) == 2 + 14 + 2 * 3
    model = resource.model
    for name, spec in resource.filters.items():
        sample = model.objects.exclude(**{spec.column: None}).order_by("id")
        if spec.kind == "str":  # an empty parameter is no filter at all
            sample = sample.exclude(**{spec.column: ""})
        sample = sample[sample.count() // 2] if sample.exists() else None
        if sample is None:
            continue
        value = getattr(sample, spec.column)
        condition = spec.condition(name, query_value(value))
        expected = set(model.objects.filter(condition).values_list("id", flat=True))
        got = {r["Id"] for r in all_records(api, path, size=1000, **{name: query_value(value)})}
        assert got == expected, name
        if spec.bound != "to":
            assert sample.id in got, name


class TestMessageOneAndBatch:
    def test_get_one_is_the_bare_record(self, sandbox_data, api):
        first = services.message_ids()[0]
        record = api(f"spaces/coworkermessages/{first}").json()
        assert set(record) == MESSAGE_KEYS and record["Id"] == first

    def test_get_one_missing_is_404(self, sandbox_data, api):
        assert api("spaces/coworkermessages/999").status_code == 404
        assert api(f"spaces/coworkermessages/{2**63 - 1}").status_code == 404
        # An Id beyond 64 bits is a 400 (tests/sandbox/test_hostile.py).

    @pytest.mark.parametrize("path", ["spaces/coworkermessages/", "spaces/coworkermessages"])
    def test_batch_returns_a_bare_array_of_existing_records(self, sandbox_data, api, path):
        ids = services.message_ids()[:3]
        response = api(path, id=f"[{ids[2]},{ids[0]},12345,{ids[1]}]")
        records = response.json()
        assert isinstance(records, list)
        assert sorted(r["Id"] for r in records) == sorted(ids)
        assert set(records[0]) == MESSAGE_KEYS
        assert records[0]["Body"] == CoworkerMessage.objects.get(id=records[0]["Id"]).body

    def test_batch_with_bad_ids_is_400(self, sandbox_data, api):
        assert api("spaces/coworkermessages/", id="[1,two]").status_code == 400

    def test_empty_batch(self, sandbox_data, api):
        assert api("spaces/coworkermessages/", id="[]").json() == []


class TestAccounts:
    def test_list_shape_and_tokens_served_as_nexudus_does(self, sandbox_data, api):
        data = api("crm/emailaccounts", size=100).json()
        assert set(data) == ENVELOPE_KEYS and data["TotalItems"] == 16
        assert all(set(r) == ACCOUNT_KEYS for r in data["Records"])
        google = [r for r in data["Records"] if r["GoogleAccessToken"]]
        office = [r for r in data["Records"] if r["Office365AccessToken"]]
        assert google and office
        assert SECRET_MARKER in google[0]["GoogleAccessToken"]
        assert SECRET_MARKER in office[0]["Office365AccessToken"]

    @pytest.mark.parametrize("value", [True, False])
    def test_active_filter(self, sandbox_data, api, value):
        records = api("crm/emailaccounts", EmailAccount_Active=str(value).lower(), size=100).json()["Records"]
        assert records and {r["Active"] for r in records} == {value}
        assert len(records) == EmailAccount.objects.filter(active=value).count()

    def test_business_filter(self, sandbox_data, api):
        records = api("crm/emailaccounts", EmailAccount_Business=1002, size=100).json()["Records"]
        assert records and {r["BusinessId"] for r in records} == {1002}

    def test_error_count_range(self, sandbox_data, api):
        records = api("crm/emailaccounts", from_EmailAccount_ErrorCount=5, size=100).json()["Records"]
        assert records and all(r["ErrorCount"] >= 5 for r in records)

    def test_updated_on_range(self, sandbox_data, api):
        account_id = services.account_ids()[4]
        since = services.now().strftime("%Y-%m-%dT%H:%M")
        services.update_account(account_id, error_count=9)
        records = api("crm/emailaccounts", from_EmailAccount_UpdatedOn=since).json()["Records"]
        assert [(r["Id"], r["ErrorCount"]) for r in records] == [(account_id, 9)]

    def test_get_one_and_404(self, sandbox_data, api):
        account_id = services.account_ids()[0]
        assert api(f"crm/emailaccounts/{account_id}").json()["Id"] == account_id
        assert api("crm/emailaccounts/1").status_code == 404

    def test_batch_records_are_partial_as_documented(self, sandbox_data, api):
        ids = services.account_ids()[:2]
        records = api("crm/emailaccounts/", id=f"[{ids[0]},{ids[1]}]").json()
        assert [r["Id"] for r in records] == ids
        assert all(set(r) == ACCOUNT_KEYS for r in records)
        assert all(r["IncomingServer"] is None and r["LastCheckTime"] is None for r in records)
        assert all(r["DisplayName"] and r["EmailAddress"] for r in records)
        full = api(f"crm/emailaccounts/{ids[0]}").json()
        assert full["IncomingServer"] is not None


class TestBusinesses:
    def test_list(self, sandbox_data, api):
        data = api("sys/businesses").json()
        assert set(data) == ENVELOPE_KEYS
        assert data["TotalItems"] >= 3
        names = {r["Name"] for r in data["Records"]}
        assert "Gràcia Studios Barcelona" in names
        assert all(r["Id"] and r["Name"] for r in data["Records"])

    def test_one(self, sandbox_data, api):
        assert api("sys/businesses/1001").json()["Name"] == "Canal Works Amsterdam"


LISTS = ["spaces/coworkermessages", "crm/emailaccounts", "sys/businesses"]


class TestDirConvention:
    """``Config.dir_convention``: developers.nexudus.com's 1/-1 (default) or learn.nexudus.com's 0/1."""

    def ids(self, api, path: str, **params) -> list[int]:
        return [r["Id"] for r in api(path, size=1000, orderBy="Id", **params).json()["Records"]]

    @pytest.mark.parametrize("path", LISTS)
    def test_developers_is_the_default(self, sandbox_data, api, path):
        ascending = self.ids(api, path)
        assert ascending == sorted(ascending) and len(ascending) > 1
        assert self.ids(api, path, dir=1) == self.ids(api, path, dir=0) == ascending
        assert self.ids(api, path, dir=-1) == ascending[::-1]
        assert api(path).json()["CurrentSortDirection"] == 1

    @pytest.mark.parametrize("path", LISTS)
    def test_learn(self, sandbox_data, api, path):
        services.configure(dir_convention="learn")
        ascending = sorted(self.ids(api, path))
        assert self.ids(api, path) == self.ids(api, path, dir=0) == ascending  # no dir: still ascending
        assert self.ids(api, path, dir=1) == ascending[::-1]
        assert api(path).json()["CurrentSortDirection"] == 0  # the ascending integer of this convention
        assert api(path, dir=0).json()["CurrentSortDirection"] == 0
        assert api(path, dir=1).json()["CurrentSortDirection"] == 1
        refused = api(path, dir=-1)
        assert refused.status_code == 400 and "dir" in refused.json()["Message"]
        assert api(path, dir=2).status_code == 400

    def test_learn_sorts_descending_by_dates_too(self, sandbox_data, api):
        services.configure(dir_convention="learn")
        data = api("spaces/coworkermessages", orderBy="UpdatedOn", dir=1, size=400).json()
        expected = CoworkerMessage.objects.order_by("-updated_on", "-id").values_list("id", flat=True)
        assert [r["Id"] for r in data["Records"]] == list(expected)

    @pytest.mark.parametrize(
        "convention,direction,word",
        [("developers", None, "Ascending"), ("developers", 1, "Ascending"), ("developers", 0, "Ascending"),
         ("developers", -1, "Descending"), ("learn", None, "Ascending"), ("learn", 0, "Ascending"),
         ("learn", 1, "Descending")],
    )
    def test_word_echo(self, sandbox_data, api, convention, direction, word):
        services.configure(dir_convention=convention, sort_direction_echo="word")
        params = {} if direction is None else {"dir": direction}
        data = api("spaces/coworkermessages", **params).json()
        assert data["CurrentSortDirection"] == word
        ids = [r["Id"] for r in data["Records"]]
        assert ids == sorted(ids, reverse=word == "Descending")

    @pytest.mark.parametrize("convention", ["developers", "learn"])
    @pytest.mark.parametrize("path", LISTS)
    def test_omitted_echo(self, sandbox_data, api, convention, path):
        services.configure(dir_convention=convention, sort_direction_echo="omit")
        data = api(path, dir=1).json()
        assert set(data) == ENVELOPE_KEYS - {"CurrentSortDirection"}
        ids = [r["Id"] for r in data["Records"]]
        assert ids == sorted(ids, reverse=convention == "learn")  # only the records tell

    @pytest.mark.parametrize("knob,value", [("dir_convention", "sideways"), ("sort_direction_echo", "ASC")])
    def test_unknown_values_are_refused(self, db, knob, value):
        with pytest.raises(ValidationError):
            services.configure(**{knob: value})


class TestBusinessesDenied:
    """``Config.businesses_denied_status``: an API user without the Business-List/Read roles."""

    @pytest.mark.parametrize("status", [401, 403, 404])
    def test_list_batch_and_one_answer_the_status(self, sandbox_data, api, status):
        services.configure(businesses_denied_status=status)
        for path, params in (("sys/businesses", {}), ("sys/businesses/", {"id": "[1001]"}), ("sys/businesses/1001", {})):
            response = api(path, **params)
            assert response.status_code == status, path
            assert response["Content-Type"].startswith("application/json")
            message = response.json()["Message"]
            if status in (401, 403):
                assert message == "Authorization has been denied for this request."
            else:
                assert "/sandbox/api/sys/businesses" in message
        assert api("sys/businesses/99999999999999999999999").status_code == status  # denied before anything

    @pytest.mark.parametrize("status", [401, 403, 404])
    def test_every_other_endpoint_keeps_working(self, sandbox_data, api, status):
        services.configure(businesses_denied_status=status)
        assert api("spaces/coworkermessages").json()["TotalItems"] == 400
        assert api("crm/emailaccounts").json()["TotalItems"] == 16
        assert api(f"crm/emailaccounts/{services.account_ids()[0]}").status_code == 200
        assert api(f"spaces/coworkermessages/{services.message_ids()[0]}").status_code == 200

    def test_401_asks_for_a_bearer_token_as_any_401(self, sandbox_data, api):
        services.configure(businesses_denied_status=401)
        assert api("sys/businesses")["WWW-Authenticate"].startswith("Bearer")

    def test_served_again_when_cleared(self, sandbox_data, api):
        services.configure(businesses_denied_status=403)
        services.configure(businesses_denied_status=None)
        assert api("sys/businesses").status_code == 200

    def test_without_a_token_it_is_still_the_plain_401(self, sandbox_data, client):
        services.configure(businesses_denied_status=404)
        assert client.get("/sandbox/api/sys/businesses").status_code == 401

    @pytest.mark.parametrize("status", [200, 500, 0])
    def test_other_statuses_are_refused(self, db, status):
        with pytest.raises(ValidationError):
            services.configure(businesses_denied_status=status)
