"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) on the gateway's HTTP
port: the door for citizens' apps and outside systems to post reports and follow them.

`open311_app` is the ASGI application (`app`), `ApiKeys` the clients allowed to post
(`keys`), with their rates (`limits`). The spec's vocabulary is `fields`; one document
is written as XML or JSON by `formats`; the catalogue's services and the reports' public
view are `services` and `service_requests`; a post is read by `submission`.
"""

from gateway.open311.app import PREFIX, open311_app
from gateway.open311.fields import JURISDICTION_ID
from gateway.open311.keys import ApiKeyError, ApiKeys, KeyInfo, Open311Key
from gateway.open311.limits import Limits

__all__ = ["JURISDICTION_ID", "PREFIX", "ApiKeyError", "ApiKeys", "KeyInfo", "Limits",
           "Open311Key", "open311_app"]
