"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) on the gateway's HTTP
port: the door for citizens' apps and outside systems to post reports and follow them.

`open311_app` is the ASGI application (`app`), `ApiKeys` the clients allowed to post
(`keys`), with their rates (`limits`). Nothing is imported here: the command line reads
the keys without loading the web application. The spec's vocabulary is `fields`; one document
is written as XML or JSON by `formats`; the catalog's services and the reports' public
view are `services` and `service_requests`; a post is read by `submission`.
"""
