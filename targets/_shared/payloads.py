# The payloads every target serves, byte for byte the same on every framework
# (see DESIGN.md "Targets"). Imported by each targets/<name>/app.py and by the tests.
import os

try:
    import ujson as _ujson
except ImportError:  # the seed serialized with ujson; json is only a fallback
    _ujson = None
    import json as _json

TEXT = "Hello World!"
TEXT_BYTES = TEXT.encode("ascii")  # 12 bytes

# The seed used datetime.now(), which ujson 1.35 wrote as an epoch integer; the
# date is fixed here so the document (106 bytes) is reproducible.
JSON_DATA = {
    "test": True,
    "date": 1553700000,
    "values": [1, 2, 3, 4, 5],
    "sub_attributes": {"attribute1": 1, "attribute2": "True"},
}
JSON_EXPECTED = (
    b'{"test":true,"date":1553700000,"values":[1,2,3,4,5],'
    b'"sub_attributes":{"attribute1":1,"attribute2":"True"}}'
)

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
FILE_NAME = "file.bin"
FILE_PATH = os.path.join(STATIC_DIR, FILE_NAME)
FILE_SIZE = 65536
FILE_CONTENT_TYPE = "application/octet-stream"


def dumps(obj):
    """Serialize like the seed: ujson, compact. Returns str."""
    if _ujson is not None:
        return _ujson.dumps(obj)
    return _json.dumps(obj, separators=(",", ":"))


def json_body():
    """The /json body, serialized on every call as the seed did per request."""
    return dumps(JSON_DATA).encode("utf-8")


def file_pattern(size=FILE_SIZE):
    """The deterministic content of static/file.bin: byte i = (i*31 + (i>>8)*7 + 11) mod 256."""
    return bytes(((i * 31) + ((i >> 8) * 7) + 11) & 0xFF for i in range(size))


def ujson_version():
    if _ujson is None:
        return None
    try:
        import importlib.metadata

        return importlib.metadata.version("ujson")
    except Exception:
        return getattr(_ujson, "__version__", None)
