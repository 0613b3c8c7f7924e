"""Evidence files over the real gateway and real agency services: an officer attaches a
photo (a real JPEG with EXIF, made here) to the task and completes it naming the file;
the lead fetches it and its small copy; another agency of the case learns it exists,
not what it shows; a stranger learns nothing; a file swapped on the holder's disk is
refused as no longer matching its signed digest; the custody log lists every fetch."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime

import httpx
import pytest
from PIL import Image

from seamless.v1 import case_service_pb2 as cs
from tests.gateway.harness import Gateway

TOWNSHIP, NR, POLICE, STRANGER = ("jinhaihu-township", "natural-resources",
                                  "public-security", "traffic-police")
FIELD = f"field-officer@{NR}"
# Where the excavator stood: north of the Jinhaihu reservoir.
TAKEN = datetime(2026, 12, 7, 23, 5, 0)
LAT, LON = 40.1723, 117.3511


def photo(taken: datetime = TAKEN, lat: float = LAT, lon: float = LON) -> bytes:
    """A JPEG as a phone writes it: the picture, its original time and its place."""
    image = Image.new("RGB", (1200, 900), (90, 110, 70))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(0x8769)[0x9011] = "+08:00"

    def dms(value: float) -> tuple[float, float, float]:
        degrees, rest = int(value), (value - int(value)) * 60
        return float(degrees), float(int(rest)), round((rest - int(rest)) * 60, 2)
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


async def bearer(gw: Gateway, caller: str) -> dict[str, str]:
    return {"authorization": f"Bearer {await gw.session(caller)}"}


async def upload(gw: Gateway, caller: str, case: str, task: str, body: bytes,
                 name: str = "quarry.jpg") -> httpx.Response:
    return await gw.http.post(f"/evidence/{case}/{task}", params={"name": name},
                              content=body, headers=await bearer(gw, caller))


@pytest.fixture
async def signed_task(gw: Gateway) -> tuple[str, str]:
    """A mining case, its natural-resources task signed for: (case number, task id)."""
    case = (await gw.call("OpenCase", cs.OpenCaseRequest(
        request_id=str(uuid.uuid4()), type="illegal-mining", jurisdiction="jinhaihu",
        subject_key=f"Q-{uuid.uuid4().hex[:8]}", title="Quarry by night"), TOWNSHIP)).case
    task = next(t for t in case.tasks if t.assignee == NR)
    await gw.call("SignTask", cs.SignTaskRequest(request_id=str(uuid.uuid4()),
                                                 case_id=case.number, task_id=task.id), FIELD)
    return case.number, task.id


async def test_a_photo_is_attached_named_in_the_completion_and_seen_by_whom_it_may(
        gw: Gateway, signed_task: tuple[str, str]) -> None:
    number, task = signed_task
    body = photo()
    stored = await upload(gw, FIELD, number, task, body)
    assert stored.status_code == 201, stored.text
    file = stored.json()
    assert file["sha256"] == hashlib.sha256(body).hexdigest()
    assert (file["media_type"], file["size"], file["holder"]) == ("image/jpeg", len(body), NR)
    assert file["uploaded_by"] == "field-officer"
    # What the photo says of itself, read from it: 23:05 in Beijing, by the reservoir.
    assert file["taken_at"].startswith("2026-12-07T15:05:00")
    assert file["location"] == pytest.approx([LAT, LON], abs=1e-4)
    assert (await upload(gw, FIELD, number, task, body)).status_code == 200  # a retry
    # On scene, the completion names the file: its digest is inside the act signed.
    await gw.call("ArriveOnScene", cs.ArriveOnSceneRequest(
        request_id=str(uuid.uuid4()), case_id=number, task_id=task), FIELD)
    done = await gw.call("CompleteTask", cs.CompleteTaskRequest(
        request_id=str(uuid.uuid4()), case_id=number, task_id=task,
        findings="Two excavators, no licence on site.", evidence_refs=[file["ref"]]), FIELD)
    assert file["ref"] in next(t for t in done.case.tasks if t.id == task).evidence_refs

    path = f"/evidence/{number}/{NR}/{file['sha256']}"
    lead = await gw.http.get(path, headers=await bearer(gw, TOWNSHIP))
    assert lead.status_code == 200 and lead.content == body
    assert lead.headers["content-security-policy"].startswith("sandbox")
    small = await gw.http.get(path, params={"thumbnail": "1"},
                              headers=await bearer(gw, TOWNSHIP))
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(small.content)) as thumb:
        assert max(thumb.size) <= 320 and not thumb.getexif()  # no place in the copy
    # Police work the same case: they learn the evidence exists, not what it shows.
    listed = await gw.http.get(f"/evidence/{number}", headers=await bearer(gw, POLICE))
    assert listed.status_code == 200
    [entry] = listed.json()["files"]
    assert entry["content"] is False and "name" not in entry and "location" not in entry
    refused = await gw.http.get(path, headers=await bearer(gw, POLICE))
    assert refused.status_code == 403
    # An agency outside the case: as for a case it may not see.
    assert (await gw.http.get(path, headers=await bearer(gw, STRANGER))).status_code == 404
    assert (await gw.http.get(f"/evidence/{number}",
                              headers=await bearer(gw, STRANGER))).status_code == 404

    # The file swapped on the holder's disk: refused, and the refusal is on record.
    stored_at = gw.root / "evidence" / NR / file["sha256"][:2] / file["sha256"]
    stored_at.write_bytes(photo(taken=datetime(2026, 12, 1, 9, 0, 0)))
    tampered = await gw.http.get(path, headers=await bearer(gw, TOWNSHIP))
    assert tampered.status_code == 409
    assert tampered.json()["error"]["reason"] == "EVIDENCE_TAMPERED"
    custody = await gw.http.get(f"/evidence/{number}/custody",
                                headers=await bearer(gw, "oversight"))
    assert custody.status_code == 200
    log = [(e["agency"], e["served"], e["thumbnail"]) for e in custody.json()["entries"]]
    assert log == [(TOWNSHIP, True, False), (TOWNSHIP, True, True), (TOWNSHIP, False, False)]
    assert (await gw.http.get(f"/evidence/{number}/custody",
                              headers=await bearer(gw, TOWNSHIP))).status_code == 403


async def test_what_is_not_evidence_or_not_yours_is_refused_and_nothing_is_kept(
        gw: Gateway, signed_task: tuple[str, str]) -> None:
    number, task = signed_task
    text = await upload(gw, FIELD, number, task, b"just some words", name="notes.txt")
    assert text.status_code == 400 and "only photos" in text.json()["error"]["message"]
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=number), TOWNSHIP)).case
    police_task = next(t.id for t in case.tasks if t.assignee == POLICE)
    theirs = await upload(gw, FIELD, number, police_task, photo())
    assert theirs.status_code == 409 and "not in the inbox" in theirs.json()["error"]["message"]
    stranger = await upload(gw, f"duty-officer@{STRANGER}", number, "T1", photo())
    missing = await upload(gw, f"duty-officer@{STRANGER}", "20990101-0001", "T1", photo())
    assert stranger.status_code == missing.status_code == 404  # as for a wrong number
    nobody = await gw.http.post(f"/evidence/{number}/{task}", content=photo())
    assert nobody.status_code == 401
    # By the console's cookie, an upload must carry the page's CSRF token.
    forged = await gw.http.post(f"/evidence/{number}/{task}", content=photo(), headers={
        "cookie": f"seamless_session={await gw.session(FIELD)}"})
    assert forged.status_code == 403 and forged.json()["error"]["reason"] == "CSRF"
    listed = await gw.http.get(f"/evidence/{number}", headers=await bearer(gw, TOWNSHIP))
    assert listed.json()["files"] == []
    incoming = gw.root / "evidence" / NR / "incoming"
    assert not any(incoming.iterdir())  # nothing half-written left behind
