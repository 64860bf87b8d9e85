"""`.proto` files typed as such and compiled by protoc in process, imports between the answer's files
resolved; services and messages listed."""

from agentnb import checks
from agentnb.artifacts import Artifact, extract
from agentnb.checks.proto import check_proto

BOOKS = """```protobuf
// proto/library/v1/books.proto
syntax = "proto3";
package library.v1;
import "library/v1/common.proto";
import "google/protobuf/timestamp.proto";
service Books {
  rpc GetBook(GetBookRequest) returns (Book);
  rpc WatchBooks(GetBookRequest) returns (stream Book);
}
message GetBookRequest { string id = 1; }
message Book { string id = 1; google.protobuf.Timestamp added_at = 2; Money price = 3; }
```
"""
COMMON = """```proto
// proto/library/v1/common.proto
syntax = "proto3";
package library.v1;
message Money { int64 cents = 1; string currency = 2; }
```
"""


def rows_of(text):
    return {r.name: r for r in check_proto(extract(text))}


def test_proto_blocks_are_typed_proto_by_fence_file_name_or_content():
    kinds = [a.kind for a in extract(BOOKS + COMMON + '```\nsyntax = "proto3";\nmessage A { string a = 1; }\n```\n')]
    assert kinds == ["proto", "proto", "proto"]
    assert extract("```\n// api.proto\nmessage A {}\n```\n")[0].kind == "proto"


def test_files_importing_each_other_compile_and_list_their_services():
    rows = rows_of(BOOKS + "\n" + COMMON)
    books = rows["Protocol Buffers: proto/library/v1/books.proto"]
    assert books.status == "passed", books.message
    assert books.message == "compiles: 1 service (2 rpcs), 2 messages"
    service = books.details["services"][0]
    assert service["name"] == "library.v1.Books"
    assert service["methods"][1] == {"name": "WatchBooks", "input": "library.v1.GetBookRequest",
                                     "output": "library.v1.Book", "client_streaming": False,
                                     "server_streaming": True}
    assert rows["Protocol Buffers: proto/library/v1/common.proto"].status == "passed"


def test_a_missing_import_fails_with_protocs_message():
    row = rows_of(BOOKS)["Protocol Buffers: proto/library/v1/books.proto"]
    assert row.status == "failed"
    assert "library/v1/common.proto: File not found." in row.message


def test_an_undefined_type_fails_with_protocs_message_and_the_line_in_the_answer():
    text = "Here:\n\n" + COMMON.replace("int64 cents = 1;", "Cents cents = 1;")
    row = rows_of(text)["Protocol Buffers: proto/library/v1/common.proto"]
    assert row.status == "failed"
    assert row.message == 'proto/library/v1/common.proto line 4, column 17: "Cents" is not defined.'
    assert row.details["answer_line"] == 7


def test_a_path_leaving_the_scratch_folder_is_not_written(tmp_path):
    target = tmp_path / "evil.proto"
    code = 'syntax = "proto3";\nmessage A { string a = 1; }\n'
    rows = check_proto([Artifact("proto", "proto", code, filename=f"../../../../../..{target}")])
    assert rows[0].status == "passed" and not target.exists()


def test_the_rows_come_through_checks_run():
    text = BOOKS + COMMON
    report = checks.run(extract(text), answer_text=text, sql=False)
    assert [r.status for r in report.rows if r.name.startswith("Protocol Buffers")] == ["passed", "passed"]
