"""What the fuzzer sends: a `Probe` is one request on one transport, drawn by a Hypothesis
strategy for that transport and RPC.

Transports: the public gRPC port (a signed-in officer's session, or a broken
credential), the mutual-TLS port as an agency's service (no act, a garbage act, an act
signed for this very request, one signed by another agency), Connect HTTP (JSON or
binary proto, POST or GET, odd content types and headers), Open311 (query strings and
forms), the console (its pages, and its command forms with or without their CSRF token)
and an agency's own desk (AgencyService, RosterService). Secrets are never in a probe:
it names a caller and a kind of credential, which `tests.fuzz.send` resolves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from tests.fuzz.bodies import json_shapes
from tests.fuzz.strategies import Pool, Strategies, texts
from tests.fuzz.wire import Shape, shapes


class Transport(StrEnum):
    GRPC = "grpc"
    MTLS = "mtls"
    CONNECT = "connect"
    OPEN311 = "open311"
    CONSOLE = "console"
    DESK = "desk"


@dataclass(frozen=True)
class Probe:
    transport: Transport
    # "CaseService/GetCase"; "GET /requests.{fmt}" (Open311); "POST /act/{method}" or
    # "GET /cases/{ref}" (console); "RosterService/SignIn" (desk).
    rpc: str
    # "officer@agency" (or an agency alone for mutual TLS), "" for nobody.
    caller: str = ""
    # session | none | garbage | scheme | huge (people); none | garbage | signed |
    # other-agency | other-act (acts); key | none | garbage | twice (Open311 keys);
    # csrf | no-csrf | bad-csrf (console forms).
    credential: str = "session"
    message: Message | None = None
    shape: Shape = field(default_factory=Shape)
    # Connect: json | proto | get | stream | grpc-web; HTTP: the method.
    encoding: str = "json"
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    # Open311 and console: query or form pairs, and the path with its parameters filled.
    pairs: tuple[tuple[str, str], ...] = ()
    path: str = ""

    @property
    def mutating(self) -> bool:
        """Whether the request, answered OK, may change something."""
        if self.transport in (Transport.OPEN311, Transport.CONSOLE):
            return self.method == "POST"
        name = self.rpc.rpartition("/")[2]
        return not name.startswith(("Get", "List", "Describe", "Check", "Verify",
                                    "Export"))


OPEN311_ROUTES = ("GET /discovery.{fmt}", "GET /services.{fmt}", "GET /services/{code}.{fmt}",
                  "GET /requests.{fmt}", "POST /requests.{fmt}", "GET /requests/{id}.{fmt}",
                  "GET /tokens/{token}.{fmt}", "GET /{junk}")
CONSOLE_PAGES = ("GET /", "GET /inbox", "GET /inbox/items", "GET /escalations", "GET /cases",
                 "GET /cases/{ref}", "GET /intake", "GET /intake/services", "GET /follow-up",
                 "GET /oversight", "GET /oversight/export/{format}", "GET /lang/{lang}",
                 "GET /login", "POST /login", "POST /auth/sign-in", "POST /intake",
                 "GET /{junk}")
FORMATS = ("json", "xml") * 4 + ("html", "", "JSON", "json/", "csv", "xml%00")
QUERY_NAMES = ("service_request_id", "service_code", "start_date", "end_date", "status",
               "jurisdiction_id", "owner", "type", "subject", "page_token", "page_size",
               "kind", "agency", "breached", "q", "service", "next", "lang", "case", "since",
               "open_only", "format", "api_key")
POST_FIELDS = ("api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string",
               "address_id", "email", "device_id", "account_id", "first_name", "last_name",
               "phone", "description", "media_url", "attribute[site]", "attribute[site][]",
               "attribute[]", "attribute[[x]]", "csrf", "next", "agency", "officer_id",
               "password", "request_id", "step")
DATES = ("2026-05-01T00:00:00+08:00", "2026-04-30T16:00:00Z", "2026-05-01", "1999-12-31T00:00Z",
         "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
         "2026-05-01T00:00:00 08:00", "now", "", "-1")
# Form and query breakage on the HTTP doors (`tests.fuzz.send` applies them).
FORM_SHAPES = ("bad-percent", "bad-utf8", "many-fields", "oversize", "wrong-content-type",
               "no-length", "multipart", "json")
# Connect headers a client may get wrong.
CONTENT_TYPES = ("", "text/plain", "application/JSON", "application/json; charset=latin-1",
                 "application/x-www-form-urlencoded", "application/grpc",
                 "application/connect+json", "multipart/form-data; boundary=x",
                 "application/proto; charset=utf-8", "*/*")
ODD_HEADERS = (("connect-protocol-version", "2"), ("connect-timeout-ms", "-1"),
               ("connect-timeout-ms", "abc"), ("connect-timeout-ms", "99999999999999"),
               ("content-encoding", "gzip"), ("content-encoding", "br"),
               ("connect-content-encoding", "gzip"), ("accept-encoding", "zstd"),
               ("authorization", "Bearer"),
               ("x-forwarded-for", "1.2.3.4"), ("connect-protocol-version", "1"))
PEOPLE_CREDENTIALS = ("session",) * 8 + ("none", "garbage", "scheme", "huge")
ACTS = ("signed", "signed", "signed", "none", "garbage", "other-agency", "other-act")


@dataclass(frozen=True)
class Callers:
    """Who the probes call as: people (officer@agency), the agencies whose services
    forward acts on the mutual-TLS port, and the desk callers (officer@agency, at the
    agency's own desk)."""

    people: tuple[str, ...]
    forwarders: tuple[str, ...]
    desks: tuple[str, ...]


def _odd_headers() -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """Headers a client gets wrong: a few of ODD_HEADERS, or a content type."""
    return st.one_of(st.lists(st.sampled_from(ODD_HEADERS), min_size=1, max_size=2).map(tuple),
                     st.sampled_from(CONTENT_TYPES).map(lambda t: (("content-type", t),)))


def _pairs(names: tuple[str, ...], pool: Pool, max_size: int = 6
           ) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    value = st.one_of(texts(), st.sampled_from(DATES), st.sampled_from(pool.case_refs),
                      st.sampled_from(pool.report_ids), st.sampled_from(pool.service_codes),
                      st.sampled_from(("open", "closed", "open,closed", "40.17", "117.35",
                                       "nan", "1e999", "-91", "on", "true", "0", "-1",
                                       "999999999999")))
    name = st.one_of(st.sampled_from(names), st.sampled_from(names), texts())
    return st.lists(st.tuples(name, value), max_size=max_size).map(tuple)


class ProbeStrategies:
    """A strategy per (transport, RPC or route), over one pool and one set of callers."""

    def __init__(self, pool: Pool, callers: Callers, desk_pool: Pool) -> None:
        self._requests = Strategies(pool)
        self._desk_requests = Strategies(desk_pool)
        self._pool = pool
        self._callers = callers

    def rpc(self, transport: Transport, method: MethodDescriptor, broken: bool
            ) -> st.SearchStrategy[Probe]:
        """Probes of one RPC on one transport; `broken`: each broken on the wire, in
        its JSON or in its headers, else well-formed (if not well-meant)."""
        name = f"{method.containing_service.name}/{method.name}"
        requests = self._desk_requests if transport is Transport.DESK else self._requests
        message = requests.message(method.input_type)
        wire = shapes(method.input_type, broken)
        if transport in (Transport.GRPC, Transport.DESK):
            callers = self._callers.desks if transport is Transport.DESK else \
                self._callers.people
            return st.builds(Probe, st.just(transport), st.just(name),
                             st.sampled_from(callers), st.sampled_from(PEOPLE_CREDENTIALS),
                             message, wire)
        if transport is Transport.MTLS:
            # An agency's service, with an act signed for the request as generated (or
            # none, garbage, another agency's, another request's).
            return st.builds(Probe, st.just(transport), st.just(name),
                             st.sampled_from(self._callers.forwarders), st.sampled_from(ACTS),
                             message, wire)
        readable = method.GetOptions().idempotency_level == 1  # NO_SIDE_EFFECTS
        encodings: tuple[str, ...]
        # Connect (JSON, binary, GET, streamed), and gRPC-Web, which the port serves too.
        if method.server_streaming:
            encodings = ("stream", "stream", "json", "get", "grpc-web")
        else:
            encodings = ("json", "json", "json", "proto", "get" if readable else "json",
                         "get", "grpc-web")
        return st.sampled_from(encodings).flatmap(lambda encoding: st.builds(
            Probe, st.just(transport), st.just(name), st.sampled_from(self._callers.people),
            st.sampled_from(PEOPLE_CREDENTIALS), message,
            json_shapes(method.input_type, broken) if encoding == "json" else wire,
            st.just(encoding), st.just("GET" if encoding == "get" else "POST"),
            _odd_headers() if broken else st.just(())))

    def open311(self, route: str, broken: bool) -> st.SearchStrategy[Probe]:
        verb, _, template = route.partition(" ")
        names = POST_FIELDS if verb == "POST" else QUERY_NAMES
        return st.builds(
            Probe, st.just(Transport.OPEN311), st.just(route), st.just(""),
            st.sampled_from(("key", "key", "key", "none", "garbage", "twice")),
            method=st.just(verb), pairs=_pairs(names, self._pool, 12),
            shape=_form_shapes(broken), path=self._fill(template))

    def console(self, route: str, broken: bool, command: MethodDescriptor | None = None
                ) -> st.SearchStrategy[Probe]:
        """A console page or form; with `command`, its `/act/<Method>` form."""
        verb, _, template = route.partition(" ")
        path = st.just(template) if command else self._fill(template)
        message = self._requests.message(command.input_type) if command else st.none()
        credential = st.sampled_from(("csrf", "csrf", "csrf", "no-csrf", "bad-csrf")) \
            if verb == "POST" else st.just("session")
        names = POST_FIELDS if verb == "POST" else QUERY_NAMES
        callers = st.sampled_from((*self._callers.people, ""))
        return st.builds(
            Probe, st.just(Transport.CONSOLE), st.just(route), callers, credential,
            message, _form_shapes(broken), method=st.just(verb),
            pairs=st.just(()) if command else _pairs(names, self._pool), path=path)

    def _fill(self, template: str) -> st.SearchStrategy[str]:
        """The route with its parameters filled: real values, odd ones, escapes."""
        part = st.one_of(
            st.sampled_from(self._pool.case_refs), st.sampled_from(self._pool.report_ids),
            st.sampled_from(self._pool.service_codes),
            st.sampled_from(("en", "zh", "xx", "csv", "ocel", "..", "%2e%2e", "%00", "%ff",
                             "a%2Fb", "x" * 300, "x" * 5000, "😀", "%E4%B8%AD", "{x}",
                             "T1", ";", "a b", "\\")),
            st.text(alphabet=st.characters(codec="ascii", exclude_characters="#?/"),
                    max_size=20))
        names = ("code", "id", "token", "junk", "ref", "format", "lang")
        values = {n: part for n in names} | {
            "fmt": st.one_of(st.sampled_from(FORMATS), st.sampled_from(FORMATS), part)}
        return st.fixed_dictionaries(values).map(lambda v: _format(template, v))


def _form_shapes(broken: bool) -> st.SearchStrategy[Shape]:
    return st.sampled_from(FORM_SHAPES).map(Shape) if broken else st.just(Shape())


def _format(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template
