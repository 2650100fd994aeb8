"""Step definitions of the GovStack Registration building block's feature files."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from jsonschema import Draft4Validator
from pytest_bdd import given, parsers, scenarios, then, when

from ceiba.accounts.roles import Role
from tests.govstack.conftest import API, FEATURES, STATISTICS_API, World

if not FEATURES.exists():
    pytest.skip(f"GovStack feature files not found at {FEATURES}", allow_module_level=True)

pytestmark = pytest.mark.django_db

scenarios(str(FEATURES))

PREFIX = "/govstack/registration"
SCHEMAS = {
    ("GET", "/services"): (
        "api",
        {"type": "array", "items": {"$ref": "#/components/schemas/service"}},
    ),
    ("GET", "/services/{serviceId}"): ("api", {"$ref": "#/components/schemas/service"}),
    ("GET", "/services/{serviceId}/eForms"): (
        "api",
        {"type": "array", "items": {"$ref": "#/components/schemas/EFormListItem"}},
    ),
    ("GET", "/eForms/{eFormId}"): ("api", {"$ref": "#/components/schemas/EForm"}),
    ("POST", "/services/{serviceId}/applications"): (
        "api",
        {"$ref": "#/components/schemas/applicationFileResponse"},
    ),
    ("POST", "/documents"): ("api", {"$ref": "#/components/schemas/uploadResponse"}),
    ("GET", "/applications"): (
        "api",
        {
            "type": "array",
            "items": {"$ref": "#/components/schemas/applicantApplicationFileListResponse"},
        },
    ),
    ("GET", "/applications/{fileId}"): (
        "api",
        {"$ref": "#/components/schemas/applicationFileResponse"},
    ),
    ("PUT", "/applications/{fileId}"): (
        "api",
        {"$ref": "#/components/schemas/applicationFileResponse"},
    ),
    ("GET", "/tasks"): (
        "api",
        {"type": "array", "items": {"$ref": "#/components/schemas/userTaskResponse"}},
    ),
    ("GET", "/tasks/{taskId}"): ("api", {"$ref": "#/components/schemas/dataUserTaskResponse"}),
    ("POST", "/tasks/{taskId}/complete"): (
        "api",
        {"$ref": "#/components/schemas/completedTaskResponse"},
    ),
    ("GET", "/data/statistics/1.0"): (
        "statistics",
        {"type": "array", "items": {"$ref": "#/components/schemas/inline_response_200"}},
    ),
}
HEADER = "HTTP_INFORMATION_MEDIATOR_CLIENT"


class Call:
    """The request a scenario builds in its When steps, sent by the first Then step."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.method = "GET"
        self.template = ""
        self.path_values: dict[str, str] = {}
        self.params: dict[str, Any] = {}
        self.body: dict[str, Any] | None = None
        self.headers: dict[str, str] = {}
        self.files: dict[str, Any] | None = None
        self.as_applicant: str | None = None
        self.response: Any = None

    def mediator(self) -> None:
        self.headers[HEADER] = self.world.data["informationMediatorClientHeader"]["value"]

    def send(self) -> Any:
        if self.response is not None:
            return self.response
        world = self.world
        path = self.template
        for name, value in self.path_values.items():
            path = path.replace("{" + name + "}", quote(world.ceiba_id(value), safe=""))
        params = {
            key: world.ceiba_id(value) if isinstance(value, str) else value
            for key, value in self.params.items()
        }
        if self.as_applicant is not None:
            client = world.client_for(world.applicant(self.as_applicant))
        else:
            client = world.client_for(world.tenant.users[Role.SUPERVISOR])
        url = PREFIX + path
        if self.method == "GET":
            self.response = client.get(url, params, **self.headers)
        elif self.files is not None:
            query = f"?additionalMetadata={quote(params['additionalMetadata'])}" if params else ""
            self.response = client.post(url + query, self.files, **self.headers)
        else:
            body = dict(self.body or {})
            if "applicantId" in body:
                body["applicantId"] = world.ceiba_id(body["applicantId"])
            self.response = getattr(client, self.method.lower())(
                url, json.dumps(body), content_type="application/json", **self.headers
            )
        return self.response

    def json(self) -> Any:
        return json.loads(self.send().content)


@pytest.fixture
def call(world: World) -> Call:
    return Call(world)


# ---------------------------------------------------------------------------------------------
# Given


@given(parsers.re(r"(User wants|An applicant wants|Wants|The API supports) .*"))
def _intent(call: Call) -> None:
    assert call.response is None


# ---------------------------------------------------------------------------------------------
# When


@when("GET request to retrieve a list of services is sent")
def _list_services(call: Call) -> None:
    call.template = "/services"


@when(parsers.re(r'User sends GET /services request with given "(?P<name>[^"]*)" as name'))
def _services_by_name(call: Call, name: str) -> None:
    call.template = "/services"
    call.params["name"] = name


@when(
    parsers.re(
        r"(GET request to retrieve the information of single service with given|User sends GET "
        r'/services/\{serviceId\}/eForms request with given) "(?P<value>[^"]*)" as serviceId'
    )
)
def _one_service(call: Call, value: str) -> None:
    call.template = "/services/{serviceId}" if not call.template else call.template
    call.path_values["serviceId"] = value


@when(
    parsers.re(
        r"User sends GET /services/\{serviceId\}/eForms request with given "
        r'"(?P<value>[^"]*)" as serviceId'
    )
)
def _service_eforms(call: Call, value: str) -> None:
    call.template = "/services/{serviceId}/eForms"
    call.path_values["serviceId"] = value


@when(
    parsers.re(
        r'GET request to get eForm is sent with given "(?P<value>[^"]*)" as eFormId parameter'
    )
)
def _eform(call: Call, value: str) -> None:
    call.template = "/eForms/{eFormId}"
    call.path_values["eFormId"] = value


@when(
    parsers.re(
        r"POST request to submit an application is sent with given Information-Mediator-Client "
        r'header and "(?P<value>[^"]*)" as serviceId parameter'
    )
)
def _submit(call: Call, value: str) -> None:
    call.method = "POST"
    call.template = "/services/{serviceId}/applications"
    call.path_values["serviceId"] = value
    call.body = {}
    call.mediator()


@when(parsers.re(r'The request contains a payload with "(?P<value>[^"]*)" as applicantId$'))
def _applicant_id(call: Call, value: str) -> None:
    assert call.body is not None
    call.body["applicantId"] = value
    call.as_applicant = value


@when(
    parsers.re(
        r'The request contains a payload with "(?P<name>[^"]*)" as applicationName, '
        r'"(?P<applicant>[^"]*)" as applicantId and "(?P<created>[^"]*)" as created\s*'
    )
)
def _application_payload(call: Call, name: str, applicant: str, created: str) -> None:
    assert call.body is not None
    call.body.update(applicationName=name, applicantId=applicant, created=created)
    call.as_applicant = applicant


@when("POST request with given document is sent")
def _upload(call: Call) -> None:
    call.method = "POST"
    call.template = "/documents"
    call.files = {"file": SimpleUploadedFile("certificate.pdf", b"%PDF-1.4\n%%EOF\n")}
    call.as_applicant = "document-uploader"


@when("POST request to upload a document is sent without payload")
def _upload_nothing(call: Call) -> None:
    call.method = "POST"
    call.template = "/documents"
    call.files = {}
    call.as_applicant = "document-uploader"


@when(parsers.re(r'The request contains "(?P<value>[^"]*)" as additionalMetadata'))
def _metadata(call: Call, value: str) -> None:
    call.params["additionalMetadata"] = value


@when(
    parsers.re(
        r"GET request to get all (?P<what>application files|tasks) is sent with given "
        r"Information-Mediator-Client header"
        r'( and a payload with "(?P<value>[^"]*)" as (?P<name>\w+) parameter)?$'
    )
)
def _list(call: Call, what: str, value: str | None, name: str | None) -> None:
    call.template = "/applications" if what == "application files" else "/tasks"
    call.mediator()
    if name is not None and value is not None:
        call.params[name] = value


@when(
    parsers.re(r'The request contains a payload with "(?P<value>[^"]*)" as (?P<name>\w+) parameter')
)
def _param(call: Call, value: str, name: str) -> None:
    call.params[name] = value


@when(
    parsers.re(
        r"(The /applications request|The request) contains a payload with (?P<first>\d+) as "
        r'firstResult, (?P<most>\d+) as maxResult, "(?P<by>[^"]*)" as sortBy and '
        r'"(?P<order>[^"]*)" as sortOrder'
    )
)
def _paging(call: Call, first: str, most: str, by: str, order: str) -> None:
    call.params.update(firstResult=int(first), maxResult=int(most), sortBy=by, sortOrder=order)


@when(
    parsers.re(
        r"GET request to get an application file is sent with given Information-Mediator-Client "
        r'header and "(?P<value>[^"]*)" as fileId parameter'
    )
)
def _application(call: Call, value: str) -> None:
    call.template = "/applications/{fileId}"
    call.path_values["fileId"] = value
    call.mediator()


@when(
    parsers.re(
        r"PUT request to update service application file is sent with given "
        r'Information-Mediator-Client header, "(?P<value>[^"]*)" as a fileId parameter and body '
        r'containing applicantId: "(?P<applicant>[^"]*)"'
    )
)
def _update(call: Call, value: str, applicant: str) -> None:
    call.method = "PUT"
    call.template = "/applications/{fileId}"
    call.path_values["fileId"] = value
    call.body = {"applicantId": applicant}
    call.mediator()


@when(
    parsers.re(r'GET request to get task is sent with given "(?P<value>[^"]*)" as taskId parameter')
)
def _task(call: Call, value: str) -> None:
    call.template = "/tasks/{taskId}"
    call.path_values["taskId"] = value


@when(
    parsers.re(
        r'POST request to completes the task is sent with given "(?P<value>[^"]*)" as a taskId '
        r"parameter and body"
    )
)
def _complete(call: Call, value: str) -> None:
    call.method = "POST"
    call.template = "/tasks/{taskId}/complete"
    call.path_values["taskId"] = value
    call.body = {"data": {"note": "Checked by the GovStack scenario."}}


@when(
    parsers.re(
        r'User sends GET request with given "(?P<value>[^"]*)" as Information-Mediator-Client '
        r"header"
    )
)
def _statistics(call: Call, value: str) -> None:
    call.template = "/data/statistics/1.0"
    call.headers[HEADER] = value


@when("User sends GET request without Information-Mediator-Client header")
def _statistics_anonymous(call: Call) -> None:
    call.template = "/data/statistics/1.0"


@when(
    parsers.re(
        r'User provides optional query parameters "(?P<start>[^"]*)" as startDate "(?P<end>[^"]*)"'
        r' as endDate "(?P<name>[^"]*)" as registrationName "(?P<operator>[^"]*)" as operator '
        r'"(?P<role>[^"]*)" as role "(?P<timeframe>[^"]*)" as timeframe'
    )
)
def _statistics_filters(
    call: Call, start: str, end: str, name: str, operator: str, role: str, timeframe: str
) -> None:
    call.params.update(
        startDate=start,
        endDate=end,
        registrationName=name,
        operator=operator,
        role=role,
        timeframe=timeframe,
    )


@when(parsers.re(r'User provides query parameter "(?P<value>[^"]*)" as registrationName'))
def _statistics_name(call: Call, value: str) -> None:
    call.params["registrationName"] = value


# ---------------------------------------------------------------------------------------------
# Then


@then(parsers.re(r"(The response from the .* endpoint is received|User receives a response)"))
def _received(call: Call) -> None:
    assert call.send() is not None


@then(parsers.re(r"The .*response should be returned in a timely manner.*"))
def _timely(call: Call) -> None:
    # Durations are measured in benches/, never asserted in tests: only the answer is checked.
    assert call.send().status_code < 500


@then(parsers.re(r"The .*response should have status (?P<status>\d+)"))
def _status(call: Call, status: str) -> None:
    response = call.send()
    assert response.status_code == int(status), response.content[:500]


@then(parsers.re(r'The .* response should have "content-type": "(?P<value>[^"]*)" header'))
def _content_type(call: Call, value: str) -> None:
    assert call.send()["Content-Type"].split(";")[0].strip() == value


@then(parsers.re(r'The response header content-type should be "(?P<value>[^"]*)"'))
def _exact_content_type(call: Call, value: str) -> None:
    assert call.send()["Content-Type"] == value


def _validator(kind: str, schema: dict[str, Any]) -> Draft4Validator:
    document = json.loads((API if kind == "api" else STATISTICS_API).read_text())
    return Draft4Validator({**schema, "components": document["components"]})


@then(parsers.re(r"The (?P<where>.*)response should match json schema"))
def _schema(call: Call, where: str) -> None:
    template = "/data/statistics/1.0" if call.template.startswith("/data") else call.template
    kind, schema = SCHEMAS[(call.method, template)]
    body = call.json()
    errors = sorted(_validator(kind, schema).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert body != [] or call.template in ("/applications", "/tasks")


@then(parsers.re(r"The /documents response should match bad request json schema"))
def _bad_request_schema(call: Call) -> None:
    body = call.json()
    errors = list(_validator("api", {"$ref": "#/components/schemas/systemError"}).iter_errors(body))
    assert not errors
    assert body["code"] == "request.invalid"


@then(parsers.re(r"The .*response should contains empty array"))
def _empty(call: Call) -> None:
    assert call.json() == []


@then(
    parsers.re(
        r"The .*response's (?P<field>\w+) should be equal to the \w+ from the request "
        r'"(?P<value>[^"]*)"'
    )
)
def _echo(call: Call, field: str, value: str) -> None:
    body = call.json()
    assert body[field] == call.world.ceiba_id(value)


@then(
    parsers.re(
        r'The name field in the response matches with "(?P<name>[^"]*)" provided as name in the '
        r"query parameter"
    )
)
def _names(call: Call, name: str) -> None:
    names = [item["name"] for item in call.json()]
    assert names
    assert all(name.casefold() in item.casefold() for item in names)
