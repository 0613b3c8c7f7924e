"""The GeoReport v2 vocabulary: every response's field names, in the specification's
order, and the element names of its repeated containers.

Written from the published specification (http://wiki.open311.org/GeoReport_v2 and its
Service Discovery page), so the records built in `gateway.open311.services` and
`gateway.open311.service_requests` name exactly these fields and no others: a record
with a field missing or added fails when it is built, not in a client.
"""

from __future__ import annotations

from typing import Final, Literal

SPECIFICATION: Final = "http://wiki.open311.org/GeoReport_v2"

# The format is the resource's suffix (/services.xml, /services.json). XML is the one
# the specification requires; errors on a path with no known suffix are in XML.
Format = Literal["xml", "json"]
CONTENT_TYPES: Final[dict[str, str]] = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
# As Service Discovery lists them (MIME types without parameters).
DISCOVERY_FORMATS: Final = ("text/xml", "application/json")

# The endpoint serves one jurisdiction: the spec suggests its government's web site
# without "www", Pinggu District's being www.bjpg.gov.cn. A client may leave the
# argument out; one that names another jurisdiction gets 404.
JURISDICTION_ID: Final = "bjpg.gov.cn"

# Service Discovery: discovery > endpoints > endpoint > formats > format.
DISCOVERY: Final = ("changeset", "contact", "key_service", "endpoints")
ENDPOINT: Final = ("specification", "url", "changeset", "type", "formats")

# GET Service List: services > service.
SERVICE: Final = ("service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group")
# GET Service Definition: service_definition > attributes > attribute > values > value.
SERVICE_DEFINITION: Final = ("service_code", "attributes")
ATTRIBUTE: Final = ("variable", "code", "datatype", "required", "datatype_description",
                    "order", "description", "values")
VALUE: Final = ("key", "name")

# POST Service Request: service_requests > request, with service_request_id or token
# (never both).
CREATED: Final = ("service_request_id", "service_notice", "account_id")
CREATED_TOKEN: Final = ("token", "service_notice", "account_id")
# GET service_request_id from a token: service_requests > request.
TOKEN: Final = ("service_request_id", "token")
# GET Service Requests and GET Service Request: service_requests > request. None of
# them is the reporter's: the spec's responses carry no contact, and neither do ours.
REQUEST: Final = ("service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url")
# Errors: errors > error.
ERROR: Final = ("code", "description")

# The fields a POST may carry (besides attribute[code] and attribute[code][]).
POST_FIELDS: Final = ("api_key", "jurisdiction_id", "service_code", "lat", "long",
                      "address_string", "address_id", "email", "device_id", "account_id",
                      "first_name", "last_name", "phone", "description", "media_url")

# Status values of a request, and the service type we offer: every request gets its id
# at once ("realtime"); one the case engine could not take yet answers with a token.
STATUSES: Final = ("open", "closed")
SERVICE_TYPE: Final = "realtime"
ENDPOINT_TYPE: Final = "production"

# Response volume: the spec's default window is 90 days and at most 1000 requests; we
# answer at most this many (the newest first): each names its case, read from the case
# engine, and a public call must stay cheap. Narrow the window for more.
MAX_LISTED: Final = 200
WINDOW_DAYS: Final = 90
