"""A conformance testee over Google's Python runtime (upb), to measure
commander beside it in the same run (conformance/compare.sh).

The test messages come from conformance/test_messages.binpb (no generated
code): the set is added to a descriptor pool and message classes are made
from it. Each conversion is the runtime's own: ParseFromString /
json_format.Parse / text_format.Parse, then SerializeToString /
json_format.MessageToJson / text_format.MessageToString.

    python3 conformance/upb_testee.py conformance/test_messages.binpb
"""

import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory, text_format


def load(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    pending = {f.name: f for f in fds.file}
    added = set()

    def add(name):
        if name in added:
            return
        proto = pending[name]
        for dep in proto.dependency:
            add(dep)
        pool.Add(proto)
        added.add(name)

    for name in list(pending):
        add(name)
    return pool


def main():
    pool = load(sys.argv[1])

    def cls(name):
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))

    Request = cls("conformance.ConformanceRequest")
    Response = cls("conformance.ConformanceResponse")
    FailureSet = cls("conformance.FailureSet")
    fmt = pool.FindEnumTypeByName("conformance.WireFormat").values_by_name
    cat = pool.FindEnumTypeByName("conformance.TestCategory").values_by_name
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return
        (n,) = struct.unpack("<I", head)
        req = Request()
        req.ParseFromString(stdin.read(n))
        res = Response()
        answer(req, res, cls, fmt, cat, FailureSet, pool)
        out = res.SerializeToString()
        stdout.write(struct.pack("<I", len(out)))
        stdout.write(out)
        stdout.flush()


def answer(req, res, cls, fmt, cat, FailureSet, pool):
    if req.message_type == "conformance.FailureSet":
        res.protobuf_payload = FailureSet().SerializeToString()
        return
    try:
        msg = cls(req.message_type)()
    except KeyError:
        res.skipped = "unknown type " + req.message_type
        return
    which = req.WhichOneof("payload")
    try:
        if which == "protobuf_payload":
            msg.ParseFromString(req.protobuf_payload)
        elif which == "json_payload":
            ignore = req.test_category == cat["JSON_IGNORE_UNKNOWN_PARSING_TEST"].number
            json_format.Parse(
                req.json_payload, msg, ignore_unknown_fields=ignore, descriptor_pool=pool
            )
        elif which == "text_payload":
            text_format.Parse(req.text_payload, msg, descriptor_pool=pool)
        else:
            res.skipped = "JSPB is not supported"
            return
    except Exception as e:  # the runtime's refusal, whatever its class
        res.parse_error = str(e)
        return
    out = req.requested_output_format
    try:
        if out == fmt["PROTOBUF"].number:
            res.protobuf_payload = msg.SerializeToString()
        elif out == fmt["JSON"].number:
            res.json_payload = json_format.MessageToJson(msg, descriptor_pool=pool)
        elif out == fmt["TEXT_FORMAT"].number:
            res.text_payload = text_format.MessageToString(
                msg, print_unknown_fields=req.print_unknown_fields, descriptor_pool=pool
            )
        else:
            res.skipped = "output format not supported"
    except Exception as e:
        res.serialize_error = str(e)


if __name__ == "__main__":
    main()
