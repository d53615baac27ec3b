"""Metadata extraction: exact values from generated files, flags, and damaged metadata."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin
from sqlalchemy import select

from opensight_desktop.case.models import EvidenceItem, ItemMetadata
from opensight_desktop.evidence.decode import inspect_image
from opensight_desktop.metadata.extract import extract_metadata
from opensight_desktop.metadata.flags import (
    AI_GENERATOR,
    C2PA_PRESENT,
    DATES_INCONSISTENT,
    EDITING_SOFTWARE,
    GPS_PRESENT,
    METADATA_PROBLEMS,
    NO_CAMERA,
    SAVED_AFTER_CAPTURE,
    THUMBNAIL_MISMATCH,
)
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report.export import export_document
from tests import exif_writer as exifgen
from tests import imagegen

PHOTO = imagegen.noise_image(640, 480, seed=21)


def jpeg_bytes(image: Image.Image = PHOTO, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **kwargs)
    return out.getvalue()


def camera_jpeg(thumbnail: Image.Image | None = PHOTO, **fields) -> bytes:
    ifd0, exif, gps = exifgen.camera_ifds(**fields)
    if gps is not None and "original" not in fields and "offset" not in fields:
        # GPS time of the default capture time (07:08:09 at +02:00): a camera's own fix
        gps.entries[0x0007] = ("RATIONAL", [(5, 1), (8, 1), (9, 1)])
    thumb = None
    if thumbnail is not None:
        small = thumbnail.copy()
        small.thumbnail((160, 120))
        thumb = jpeg_bytes(small, quality=80)
    return exifgen.jpeg_with_app1(
        jpeg_bytes(quality=92), exifgen.build_tiff(ifd0, exif, gps, thumb)
    )


def extract(data: bytes, sniffed: str = "JPEG", mtime_ns: int | None = None):
    preview = inspect_image(data, sniffed).preview
    return extract_metadata(data, sniffed, mtime_ns, preview)


def codes(record) -> set[str]:
    return {flag.code for flag in record.flags}


def test_camera_exif_exact_values_south_west():
    record = extract(camera_jpeg(lat=-33.865143, lon=-151.2099, alt=-12.5, orientation=6))
    n = record.normalised
    assert (n["camera_make"], n["camera_model"]) == ("Canon", "Canon EOS R5")
    assert n["software"] == "Firmware 1.2.0"
    assert n["datetime_original"] == "2024-05-06T07:08:09"
    assert n["datetime_original_offset"] == "+02:00"
    assert n["orientation"] == 6
    assert n["gps_latitude"] == pytest.approx(-33.865143, abs=1e-6)
    assert n["gps_longitude"] == pytest.approx(-151.2099, abs=1e-6)
    assert n["gps_altitude_m"] == -12.5
    assert n["gps_time_utc"] == "2024-05-06T05:08:09Z"
    assert record.exif["EXIF ExposureTime"] == "1/250"
    assert record.exif["EXIF FNumber"] == "14/5"
    assert record.exif["Image Make"] == "Canon"
    assert codes(record) == {GPS_PRESENT}  # camera original: nothing else to flag
    assert record.extra["embedded_thumbnail"]["mismatch"] is False
    assert record.extra["jpeg_quality"]["estimated_quality"] == 92
    assert record.extra["jpeg_quality"]["standard_tables"] is True


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation(orientation):
    assert extract(camera_jpeg(orientation=orientation)).normalised["orientation"] == orientation


def test_out_of_range_orientation_is_a_problem_not_a_value():
    record = extract(camera_jpeg(orientation=9))
    assert record.normalised["orientation"] is None
    assert any("Orientation" in p for p in record.problems)


def test_north_east_and_rational_edge_cases():
    ifd0, exif, gps = exifgen.camera_ifds(lat=48.8584, lon=2.2945)
    gps.entries[0x0004] = ("RATIONAL", [(2, 1), (17, 1), (0, 0)])  # zero denominator
    data = exifgen.jpeg_with_app1(jpeg_bytes(), exifgen.build_tiff(ifd0, exif, gps))
    record = extract(data)
    assert record.normalised["gps_latitude"] == pytest.approx(48.8584, abs=1e-6)
    assert record.normalised["gps_longitude"] is None
    assert any("longitude" in p and "zero denominator" in p for p in record.problems)
    assert METADATA_PROBLEMS in codes(record) and GPS_PRESENT not in codes(record)


def test_thumbnail_mismatch_is_flagged():
    other = imagegen.noise_image(640, 480, seed=99).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    other = Image.fromarray(255 - __import__("numpy").asarray(other))
    record = extract(camera_jpeg(thumbnail=other))
    assert THUMBNAIL_MISMATCH in codes(record)
    assert record.extra["embedded_thumbnail"]["similarity"] < 0.5


def test_editing_software_and_a_later_save_are_no_date_contradiction():
    """A camera original saved again by software (digitised after capture: a scan's
    order; ModifyDate later): editing software and a later save, no contradiction."""
    data = camera_jpeg(
        software="Adobe Photoshop 25.0 (Windows)",
        digitized="2024:05:06 07:08:59",
        modified="2024:06:01 12:00:00",
    )
    record = extract(data)
    found = {flag.code: flag.explanation for flag in record.flags}
    assert "Adobe Photoshop 25.0" in found[EDITING_SOFTWARE]
    assert DATES_INCONSISTENT not in found
    assert "26 d 4 h 51 min after the capture time" in found[SAVED_AFTER_CAPTURE]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"digitized": "2024:05:06 07:00:00"},
            "digitised (2024-05-06T07:00:00) before it was taken",
        ),
        ({"original": "2099:01:01 00:00:00", "offset": None}, "taken in the future"),
        ({"modified": "2024:05:01 00:00:00"}, "ModifyDate 2024-05-01T00:00:00 is before capture"),
        # 07:08:09 at +05:00 is 02:08:09 UTC; the GPS fix says 05:08:09 UTC
        ({"offset": "+05:00", "lat": 1.0, "lon": 2.0}, "3 h from the GPS time"),
    ],
)
def test_real_date_contradictions(fields, expected):
    ifd0, exif, gps = exifgen.camera_ifds(**fields)
    if gps is not None:
        gps.entries[0x0007] = ("RATIONAL", [(5, 1), (8, 1), (9, 1)])
    record = extract(exifgen.jpeg_with_app1(jpeg_bytes(), exifgen.build_tiff(ifd0, exif, gps)))
    found = {flag.code: flag.explanation for flag in record.flags}
    assert expected in found[DATES_INCONSISTENT]


def test_gps_time_that_agrees_with_the_offset_is_no_contradiction():
    record = extract(camera_jpeg(lat=1.0, lon=2.0))
    assert record.normalised["gps_time_utc"] == "2024-05-06T05:08:09Z"
    assert DATES_INCONSISTENT not in codes(record)


def test_file_modified_before_capture():
    data = camera_jpeg(offset="+00:00")
    mtime = 1_600_000_000 * 10**9  # 2020, before the 2024 capture time
    record = extract(data, mtime_ns=mtime)
    assert any("before the picture was taken" in f.explanation for f in record.flags)


def test_dalle_metadata_is_named():
    ifd0 = exifgen.Ifd({0x927C: ("UNDEFINED", b"OpenAI--req_0123456789abcdef")})
    exif = exifgen.Ifd({0x9286: ("UNDEFINED", b"ASCII\x00\x00\x00Made with OpenAI DALL-E")})
    ifd0.entries.pop(0x927C)
    exif.entries[0x927C] = ("UNDEFINED", b"OpenAI--req_0123456789abcdef")
    image = PHOTO.copy()
    data_io = io.BytesIO()
    image.save(data_io, "PNG", exif=b"Exif\x00\x00" + exifgen.build_tiff(ifd0, exif))
    record = extract(data_io.getvalue(), "PNG")
    assert "Made with OpenAI DALL-E" in record.exif["EXIF UserComment"]
    assert "OpenAI--req_" in record.exif["EXIF MakerNote"]
    ai = next(f for f in record.flags if f.code == AI_GENERATOR)
    assert "Made with OpenAI DALL-E" in ai.explanation
    assert NO_CAMERA in codes(record)


def test_png_text_chunks_stable_diffusion_and_comfyui():
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat, Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1")
    info.add_text("prompt", json.dumps({"3": {"class_type": "KSampler"}}), zip=True)
    info.add_itxt("Comment", "Zoë's picture – ünïcödé", lang="en")
    info.add_text("Software", "GIMP 2.10.36")
    out = io.BytesIO()
    PHOTO.save(out, "PNG", pnginfo=info)
    record = extract(out.getvalue(), "PNG")
    text = record.extra["png_text"]
    assert text["parameters"].startswith("a cat, Steps: 20")
    assert json.loads(text["prompt"]) == {"3": {"class_type": "KSampler"}}
    assert text["Comment"] == "Zoë's picture – ünïcödé"
    found = {flag.code: flag.explanation for flag in record.flags}
    assert "Stable Diffusion WebUI" in found[AI_GENERATOR] and "ComfyUI" in found[AI_GENERATOR]
    assert "GIMP 2.10.36" in found[EDITING_SOFTWARE]


def test_huge_and_bomb_text_chunks_are_bounded():
    def chunk(kind: bytes, body: bytes) -> bytes:
        import struct

        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    base = io.BytesIO()
    Image.new("RGB", (8, 8)).save(base, "PNG")
    png = base.getvalue()
    bomb = chunk(b"zTXt", b"bomb\x00\x00" + zlib.compress(b"A" * (50 << 20), 9))
    big = chunk(b"tEXt", b"big\x00" + b"B" * (3 << 20))
    data = png[:33] + bomb + big + png[33:]
    record = extract(data, "PNG")
    assert len(record.extra["png_text"]["bomb"]) < 300_000
    assert "truncated" in record.extra["png_text"]["bomb"]
    assert len(record.extra["png_text"]["big"]) < 300_000


def test_xmp_creator_tool_history_and_digital_source_type():
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
        'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmp:CreatorTool="Adobe Photoshop 26.1 (Macintosh)" '
        'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
        'compositeWithTrainedAlgorithmicMedia">'
        '<xmpMM:History><rdf:Seq><rdf:li rdf:parseType="Resource">'
        "<stEvt:action>saved</stEvt:action><stEvt:softwareAgent>Adobe Photoshop 26.1"
        "</stEvt:softwareAgent></rdf:li></rdf:Seq></xmpMM:History>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    out = io.BytesIO()
    PHOTO.save(out, "JPEG", xmp=packet.encode())
    record = extract(out.getvalue())
    xmp = record.extra["xmp"]
    assert xmp["xmp:CreatorTool"] == "Adobe Photoshop 26.1 (Macintosh)"
    assert xmp["xmpMM:History"][0]["stEvt:softwareAgent"] == "Adobe Photoshop 26.1"
    found = {flag.code: flag.explanation for flag in record.flags}
    assert "compositeWithTrainedAlgorithmicMedia" in found[AI_GENERATOR]
    assert "XMP CreatorTool" in found[EDITING_SOFTWARE]


def test_hostile_xmp_entities_are_refused():
    packet = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&b;</rdf:RDF>'
        "</x:xmpmeta>"
    )
    out = io.BytesIO()
    PHOTO.save(out, "JPEG", xmp=packet.encode())
    record = extract(out.getvalue())
    assert "xmp" not in record.extra
    assert any("XMP" in p for p in record.problems)


def test_icc_profile_name():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    record = extract(jpeg_bytes(icc_profile=srgb))
    assert "sRGB" in record.extra["icc_profile"]


def test_no_camera_metadata_on_a_plain_png():
    out = io.BytesIO()
    PHOTO.save(out, "PNG")
    assert codes(extract(out.getvalue(), "PNG")) == {NO_CAMERA}


@pytest.mark.parametrize("damage", ["offset", "loop", "count", "utf8", "garbage", "next"])
def test_damaged_exif_never_stops_extraction(damage):
    ifd0, exif, gps = exifgen.camera_ifds(lat=10.0, lon=20.0)
    next_override = None
    if damage == "offset":
        ifd0.damage[0x0110] = (None, 0x7FFFFFF0)  # model string far beyond the end
    elif damage == "loop":
        next_override = 8  # IFD0's "next IFD" is IFD0 itself
    elif damage == "count":
        exif.damage[0x829A] = (0x3FFFFFFF, None)  # a billion rationals
    elif damage == "utf8":
        ifd0.entries[0x010E] = ("UNDEFINED", b"\xff\xfe\xfa bad \xc3\x28 text")
    elif damage == "next":
        next_override = 0xFFFFFFF0
    tiff = exifgen.build_tiff(ifd0, exif, gps, ifd0_next_override=next_override)
    if damage == "garbage":
        tiff = tiff[:8] + os.urandom(200)
    record = extract(exifgen.jpeg_with_app1(jpeg_bytes(), tiff))
    if damage == "garbage":
        assert record.normalised.get("camera_make") is None
        return
    # what could be read is kept
    assert record.normalised["camera_make"] == "Canon"
    assert record.normalised["gps_latitude"] == pytest.approx(10.0)
    if damage == "offset":
        assert record.normalised["camera_model"] is None
    if damage == "utf8":
        assert "bad" in record.exif["Image ImageDescription"]


def _with_app1(payload: bytes) -> bytes:
    """A JPEG with one APP1 segment of ``payload`` right after its start marker."""
    plain = jpeg_bytes()
    return plain[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + plain[2:]


@pytest.mark.parametrize("damage", ["past_the_segment", "no_byte_order"])
def test_a_malformed_exif_segment_is_not_used(damage):
    """Pillow's hopper_bad_exif.jpg and invalid-exif.jpg: exifread read an IFD0 past the
    end of its APP1 segment (the JPEG data after it as tags), and guessed a byte order
    where the header had none (ffff), giving an "Orientation: 1" where ExifTool says "Bad
    IFD0 directory" / "Malformed APP1 EXIF segment" and shows nothing. Nothing from such a
    block is used, and the problem is recorded."""
    ifd0 = struct.pack(">HHHIHH", 1, 0x0112, 3, 1, 6, 0)  # one entry: Orientation 6
    if damage == "past_the_segment":
        # IFD0 claims 32 entries; the segment holds one
        tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 32) + ifd0[2:]
    else:
        tiff = b"\xff\xff\x00\x2a" + struct.pack(">I", 8) + ifd0 + b"\x00" * 4
    record = extract(_with_app1(b"Exif\x00\x00" + tiff))
    assert record.normalised["orientation"] is None
    assert not record.exif
    reason = {
        "past_the_segment": "IFD0 of 32 entries runs past the end of its",
        "no_byte_order": "EXIF block without a byte-order mark (starts ffff002a)",
    }[damage]
    assert any(p.startswith("EXIF not used: ") and reason in p for p in record.problems)
    (damaged,) = [flag for flag in record.flags if flag.code == METADATA_PROBLEMS]
    assert "EXIF not used: " in damaged.explanation
    # the same block well formed is read
    sound = b"MM\x00\x2a" + struct.pack(">I", 8) + ifd0 + b"\x00" * 4
    assert extract(_with_app1(b"Exif\x00\x00" + sound)).normalised["orientation"] == 6


def test_casio_qvci_capture_time():
    """Casio QV-7000SX JPEGs carry their capture time in an APP1 "QVCI" segment instead of
    EXIF (ExifTool's t/images/CasioQVCI.jpg); ExifTool reads it as a maker note."""
    segment = bytearray(b"QVCI\x00" + b"\x00" * 0x90)
    segment[0x4D : 0x4D + 20] = b"1998.10.24.12.08.57\x00"
    record = extract(_with_app1(bytes(segment)))
    assert record.normalised["datetime_original"] == "1998-10-24T12:08:57"
    assert record.extra["sources"]["datetime_original"] == "MakerNote"
    # a segment cut short, or a date that is not one, gives nothing
    assert extract(_with_app1(bytes(segment[:0x50]))).normalised["datetime_original"] is None
    segment[0x4D : 0x4D + 20] = b"not a date at all!\x00\x00"
    assert extract(_with_app1(bytes(segment))).normalised["datetime_original"] is None


def test_c2pa_manifest_validated_offline():
    from tests.c2pa_signing import sign_jpeg

    signed = sign_jpeg(jpeg_bytes())
    record = extract(signed)
    c2pa = record.extra["c2pa"]
    assert c2pa["present"] and c2pa["valid"] and not c2pa["trusted"]
    assert c2pa["ai_assertions"] == ["trainedAlgorithmicMedia"]
    assert "TestGen AI" in c2pa["claim_generator"]
    found = {flag.code: flag.explanation for flag in record.flags}
    assert "signature and content hashes valid" in found[C2PA_PRESENT]
    assert "not established" in found[C2PA_PRESENT]
    assert "trainedAlgorithmicMedia" in found[AI_GENERATOR]
    # change pixels after signing: the manifest no longer matches
    with Image.open(io.BytesIO(signed)) as image:
        image.load()
    tampered = bytearray(signed)
    tampered[-200] ^= 0xFF
    record = extract(bytes(tampered))
    assert record.extra["c2pa"]["valid"] is False
    assert "INVALID" in {f.code: f.explanation for f in record.flags}[C2PA_PRESENT]


def test_import_stores_metadata_flags_and_exports_them(case, tmp_path: Path):
    path = tmp_path / "camera.jpg"
    path.write_bytes(camera_jpeg(lat=-33.5, lon=151.25, software="Adobe Photoshop 25.0"))
    ImportJob(case, [str(path)]).run()
    with case.read() as session:
        meta = session.scalars(select(ItemMetadata)).one()
        assert meta.camera_model == "Canon EOS R5" and meta.gps_latitude == pytest.approx(-33.5)
        item = session.scalars(select(EvidenceItem)).one()
        assert {f.code for f in item.flags} == {GPS_PRESENT, EDITING_SOFTWARE}
    item = export_document(case)["items"][0]
    metadata = item["metadata"]
    assert metadata["datetime_original"] == "2024-05-06T07:08:09"
    assert metadata["gps_latitude"] == pytest.approx(-33.5) and metadata["orientation"] == 1
    assert metadata["exif"]["Image Model"] == "Canon EOS R5"
    assert set(item["flags"]) == {GPS_PRESENT, EDITING_SOFTWARE}
    assert "Photoshop" in item["flag_explanations"][EDITING_SOFTWARE]
    assert metadata["sources"]["camera_model"] == "EXIF"
    assert metadata["sources"]["gps_latitude"] == "EXIF"


def test_items_imported_before_sources_were_recorded_export_exif_sources(case, tmp_path):
    path = tmp_path / "camera.jpg"
    path.write_bytes(camera_jpeg())
    ImportJob(case, [str(path)]).run()
    with case.write() as session:  # as an older version stored it: no sources
        meta = session.scalars(select(ItemMetadata)).one()
        meta.extra = {k: v for k, v in meta.extra.items() if k != "sources"}
    sources = export_document(case)["items"][0]["metadata"]["sources"]
    assert sources["camera_make"] == "EXIF" and sources["datetime_original"] == "EXIF"
    assert "gps_latitude" not in sources


# -- issue 14: real files -----------------------------------------------------------------


def xmp_packet(description_attributes: str, body: str = "") -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        f"{description_attributes}>{body}</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def test_dalle_png_with_generator_text_in_ifd0_is_flagged():
    """DALL-E 2 writes UserComment and MakerNote into IFD0 of the PNG's eXIf chunk;
    exifread reports them as "Image UserComment" / "Image MakerNote"."""
    ifd0 = exifgen.Ifd(
        {
            0x9286: ("UNDEFINED", b"ASCII\x00\x00\x00Made with OpenAI DALL-E"),
            0x927C: ("UNDEFINED", b"OpenAI--req_0123456789abcdefABCDEF"),
        }
    )
    out = io.BytesIO()
    PHOTO.save(out, "PNG", exif=b"Exif\x00\x00" + exifgen.build_tiff(ifd0))
    data = out.getvalue()
    assert b"eXIf" in data
    record = extract(data, "PNG")
    assert record.exif["Image UserComment"] == "Made with OpenAI DALL-E"
    ai = {f.code: f.explanation for f in record.flags}[AI_GENERATOR]
    assert 'EXIF UserComment (IFD0) "Made with OpenAI DALL-E"' in ai
    assert 'EXIF MakerNote (IFD0) "OpenAI--req_0123456789abcdefABCDEF"' in ai


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("imagen de la playa", False),  # Spanish for "image", not Google's generator
        ("Generated with Google Imagen", True),
        ("Firefly Photography Studio", False),
        ("Adobe Firefly (beta)", True),
        ("DALL-E2 render", True),
        ("sdxl1.0 base", True),
    ],
)
def test_generator_names_are_matched_as_words(text, named):
    ifd0 = exifgen.Ifd({0x010E: ("ASCII", text)})
    record = extract(exifgen.jpeg_with_app1(jpeg_bytes(), exifgen.build_tiff(ifd0)))
    assert (AI_GENERATOR in codes(record)) is named


def test_xmp_only_camera_fields_are_normalised_with_their_source():
    packet = xmp_packet(
        'tiff:Make="NIKON CORPORATION" tiff:Model="NIKON D850" tiff:Orientation="6" '
        'exif:DateTimeOriginal="2021-07-04T18:30:05.25+02:00" '
        'exif:GPSLatitude="48,51.5031N" exif:GPSLongitude="2,17,40.2W" '
        'xmp:CreatorTool="NX Studio 1.4"'
    )
    out = io.BytesIO()
    PHOTO.save(out, "JPEG", xmp=packet)
    record = extract(out.getvalue())
    n = record.normalised
    assert (n["camera_make"], n["camera_model"], n["orientation"]) == (
        "NIKON CORPORATION",
        "NIKON D850",
        6,
    )
    assert (n["datetime_original"], n["datetime_original_offset"]) == (
        "2021-07-04T18:30:05",
        "+02:00",
    )
    assert n["gps_latitude"] == pytest.approx(48 + 51.5031 / 60, abs=1e-7)
    assert n["gps_longitude"] == pytest.approx(-(2 + 17 / 60 + 40.2 / 3600), abs=1e-7)
    assert n["software"] == "NX Studio 1.4"
    assert record.extra["sources"] == dict.fromkeys(
        [
            "camera_make",
            "camera_model",
            "software",
            "datetime_original",
            "datetime_original_offset",
            "orientation",
            "gps_latitude",
            "gps_longitude",
        ],
        "XMP",
    )
    assert NO_CAMERA not in codes(record)


def test_exif_comes_before_xmp_and_a_disagreeing_capture_time_is_a_contradiction():
    ifd0, exif, _ = exifgen.camera_ifds()  # 2024-05-06 07:08:09 +02:00
    packet = xmp_packet('tiff:Make="Other" exif:DateTimeOriginal="2024-05-06T09:08:09+02:00"')
    data = exifgen.jpeg_with_app1(jpeg_bytes(xmp=packet), exifgen.build_tiff(ifd0, exif))
    record = extract(data)
    assert record.normalised["camera_make"] == "Canon"
    assert record.normalised["datetime_original"] == "2024-05-06T07:08:09"
    assert record.extra["sources"]["camera_make"] == "EXIF"
    assert record.extra["sources"]["datetime_original"] == "EXIF"
    found = {f.code: f.explanation for f in record.flags}
    assert "and XMP 2024-05-06T09:08:09+02:00 differ by 2 h" in found[DATES_INCONSISTENT]


def test_same_capture_time_in_exif_and_xmp_is_no_contradiction():
    ifd0, exif, _ = exifgen.camera_ifds()
    packet = xmp_packet('exif:DateTimeOriginal="2024-05-06T07:08:09.50+02:00"')
    data = exifgen.jpeg_with_app1(jpeg_bytes(xmp=packet), exifgen.build_tiff(ifd0, exif))
    assert DATES_INCONSISTENT not in codes(extract(data))


def test_date_taken_in_ifd0_is_read():
    """Some writers put DateTimeOriginal in IFD0 (ExifTool reads it there)."""
    ifd0 = exifgen.Ifd({0x010F: ("ASCII", "CASIO"), 0x9003: ("ASCII", "2006:02:14 22:00:58")})
    record = extract(exifgen.jpeg_with_app1(jpeg_bytes(), exifgen.build_tiff(ifd0)))
    assert record.normalised["datetime_original"] == "2006-02-14T22:00:58"
    assert record.extra["sources"]["datetime_original"] == "EXIF"


def iptc_app13(datasets: dict[tuple[int, int], bytes]) -> bytes:
    iim = b"".join(
        b"\x1c" + bytes(key) + struct.pack(">H", len(value)) + value
        for key, value in datasets.items()
    )
    iim += b"\x00" * (len(iim) & 1)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    payload = b"Photoshop 3.0\x00" + resource + iim
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def test_iptc_date_and_time_created_give_the_capture_time():
    app13 = iptc_app13(
        {
            (1, 90): b"\x1b%G",
            (2, 55): b"20191014",
            (2, 60): b"150020+0000",
            (2, 110): "Made with Google AI – Imagen 3".encode(),
        }
    )
    plain = jpeg_bytes()
    record = extract(plain[:2] + app13 + plain[2:])
    n = record.normalised
    assert (n["datetime_original"], n["datetime_original_offset"]) == (
        "2019-10-14T15:00:20",
        "+00:00",
    )
    assert record.extra["sources"]["datetime_original"] == "IPTC"
    assert record.extra["iptc"]["Credit"] == "Made with Google AI – Imagen 3"
    assert "IPTC Credit" in {f.code: f.explanation for f in record.flags}[AI_GENERATOR]


def test_png_software_text_is_the_software():
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "paint.net 4.0.3")
    out = io.BytesIO()
    PHOTO.save(out, "PNG", pnginfo=info)
    record = extract(out.getvalue(), "PNG")
    assert record.normalised["software"] == "paint.net 4.0.3"
    assert record.extra["sources"] == {"software": "PNG"}


def test_webp_exif_chunk_without_prefix_is_read():
    """The WebP spec (and Pillow, libwebp) store the EXIF chunk without "Exif\\0\\0"."""
    ifd0, exif, _ = exifgen.camera_ifds(orientation=8)
    out = io.BytesIO()
    PHOTO.save(out, "WEBP", exif=exifgen.build_tiff(ifd0, exif))
    record = extract(out.getvalue(), "WEBP")
    assert record.normalised["camera_model"] == "Canon EOS R5"
    assert record.normalised["orientation"] == 8
    assert record.extra["sources"]["orientation"] == "EXIF"


def test_imagemagick_raw_exif_profile_in_png_text_is_read():
    tiff = exifgen.build_tiff(exifgen.Ifd({0x0112: ("SHORT", 3), 0x010F: ("ASCII", "Kodak")}))
    block = b"Exif\x00\x00" + tiff
    hexed = block.hex()
    text = f"\nexif\n{len(block):8d}\n" + "\n".join(
        hexed[i : i + 72] for i in range(0, len(hexed), 72)
    )
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", text, zip=True)
    out = io.BytesIO()
    PHOTO.save(out, "PNG", pnginfo=info)
    record = extract(out.getvalue(), "PNG")
    assert (record.normalised["orientation"], record.normalised["camera_make"]) == (3, "Kodak")


def test_bigtiff_tags_are_read():
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Hasselblad", "X2D 100C", 5
    out = io.BytesIO()
    PHOTO.save(out, "TIFF", big_tiff=True, exif=exif)
    data = out.getvalue()
    assert data[:4] == b"II+\x00"
    record = extract(data, "TIFF")
    n = record.normalised
    assert (n["camera_make"], n["camera_model"], n["orientation"]) == ("Hasselblad", "X2D 100C", 5)


def test_heif_exif_orientation_is_the_files_own():
    """The Pillow plugin of pillow-heif rewrites Orientation to 1; the file says 6."""
    import pillow_heif

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Apple", "iPhone 15", 6
    heif = pillow_heif.from_pillow(PHOTO.resize((64, 48)))
    out = io.BytesIO()
    heif.save(out, exif=exif.tobytes(), quality=50)
    record = extract(out.getvalue(), "HEIF")
    n = record.normalised
    assert (n["camera_make"], n["camera_model"], n["orientation"]) == ("Apple", "iPhone 15", 6)


def canon_maker_note(model_id: int) -> bytes:
    """A Canon maker note IFD with one tag: ModelID (0x0010, LONG, inline)."""
    return struct.pack("<H", 1) + struct.pack("<HHII", 0x0010, 4, 1, model_id) + b"\x00" * 4


def test_maker_note_model_fills_a_missing_model():
    ifd0 = exifgen.Ifd({0x010F: ("ASCII", "Canon")})
    exif = exifgen.Ifd({0x927C: ("UNDEFINED", canon_maker_note(0x1140000))})
    record = extract(exifgen.jpeg_with_app1(jpeg_bytes(), exifgen.build_tiff(ifd0, exif)))
    assert record.normalised["camera_model"] == "EOS D30"
    assert record.extra["sources"] == {"camera_make": "EXIF", "camera_model": "MakerNote"}


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool is not installed")
def test_normalised_fields_agree_with_exiftool(tmp_path):
    """The comparison tool of tests/tools over files made here: every value agrees."""
    from tests.tools.compare_exiftool import compare

    (tmp_path / "camera.jpg").write_bytes(camera_jpeg(lat=-33.5, lon=151.25, orientation=6))
    packet = xmp_packet(
        'tiff:Make="NIKON CORPORATION" tiff:Model="NIKON D850" tiff:Orientation="3" '
        'exif:DateTimeOriginal="2021-07-04T18:30:05+02:00" xmp:CreatorTool="NX Studio 1.4" '
        'exif:GPSLatitude="48,51.5031N" exif:GPSLongitude="2,17,40.2W"'
    )
    (tmp_path / "xmp.jpg").write_bytes(jpeg_bytes(xmp=packet))
    ifd0, exif, _ = exifgen.camera_ifds(orientation=8)
    PHOTO.save(tmp_path / "camera.webp", "WEBP", exif=exifgen.build_tiff(ifd0, exif))
    tallies = compare(tmp_path)
    assert all(not t.disagreements for t in tallies.values()), tallies
    assert sum(t.agreed for t in tallies.values()) == 7 + 7 + 5


def test_a_generator_named_deep_in_long_text_is_quoted_where_it_is_named():
    caption = "A quiet harbour at dawn, boats at anchor, gulls overhead, " * 4 + (
        "rendered with Midjourney v6 and retouched"
    )
    ifd0 = exifgen.Ifd({0x010E: ("ASCII", caption)})
    record = extract(exifgen.jpeg_with_app1(jpeg_bytes(), exifgen.build_tiff(ifd0)))
    ai = {f.code: f.explanation for f in record.flags}[AI_GENERATOR]
    assert 'EXIF ImageDescription (IFD0) "…' in ai and "Midjourney v6" in ai


def _phase_one_note(software: bytes, order: str = "<") -> bytes:
    """A Phase One maker note as ExifTool's PhaseOne module reads it: "IIII" + "CwaR",
    the directory's offset, then (count, unused) and 16-byte entries."""
    head = (b"IIIICwaR" if order == "<" else b"MMMMRawC") + struct.pack(order + "I", 16)
    head += b"\x00" * 4
    values_at = 16 + 8 + 16 * 2
    entries = struct.pack(order + "4I", 0x0100, 4, 4, 7)  # some other entry, inline
    entries += struct.pack(order + "4I", 0x0203, 1, len(software), values_at)
    return head + struct.pack(order + "2I", 2, 0) + entries + software


def test_phase_one_maker_note_software():
    """ExifTool's t/images/PhaseOne.iiq: the software of a Phase One back is in its maker
    note (exifread keeps it undecoded); ExifTool reads "Camera back, Firmware: 1.01.4"."""
    from opensight_desktop.metadata.exif import phase_one_software

    text = b"Camera back, Firmware: 1.01.4\x00"
    assert phase_one_software(_phase_one_note(text)) == "Camera back, Firmware: 1.01.4"
    assert phase_one_software(_phase_one_note(text, ">")) == "Camera back, Firmware: 1.01.4"
    # bounds: a value past the end, a directory past the end, another maker's note
    assert phase_one_software(_phase_one_note(text)[:-10]) is None
    assert phase_one_software(_phase_one_note(text)[:30]) is None
    assert phase_one_software(b"Nikon\x00\x02\x10\x00\x00" + b"\x00" * 40) is None
    assert phase_one_software(b"IIIICwaR\x10") is None  # cut inside the header
    # through the import's extraction: the field, and where it came from
    ifd0, exif, _gps = exifgen.camera_ifds(make="Phase One", model="P 25")
    del ifd0.entries[0x0131]  # no EXIF Software: the maker note's is the one there is
    exif.entries[0x927C] = ("UNDEFINED", _phase_one_note(text))
    record = extract(exifgen.jpeg_with_app1(jpeg_bytes(), exifgen.build_tiff(ifd0, exif, None)))
    assert record.normalised["software"] == "Camera back, Firmware: 1.01.4"
    assert record.extra["sources"]["software"] == "MakerNote"
