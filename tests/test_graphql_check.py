"""GraphQL blocks: the SDL built and validated by graphql-core, example operations validated against it."""

from agentnb import checks
from agentnb.artifacts import extract
from agentnb.checks import check_graphql

SDL = """```graphql
# schema.graphql
type Book { id: ID! title: String! author: Author }
type Author { id: ID! name: String! books: [Book!]! }
type Query { book(id: ID!): Book  books: [Book!]! }
type Mutation { addBook(title: String!): Book! }
```
"""
GOOD_OPS = """```graphql
query One { book(id: "1") { title author { name } } }
mutation Add { addBook(title: "x") { id } }
```
"""


def rows_of(text):
    return {r.name: r for r in check_graphql(extract(text))}


def test_a_correct_schema_and_its_operations_pass():
    rows = rows_of("Intro\n\n" + SDL + "\n" + GOOD_OPS)
    schema = rows["GraphQL schema"]
    assert schema.status == "passed", schema.message
    assert schema.message == "4 types, 2 queries, 1 mutation"
    assert {"kind": "mutation", "name": "addBook", "type": "Book!", "args": {"title": "String!"}, "description": ""} \
        in schema.details["operations"]
    ops = rows["GraphQL operations: block 2 (graphql)"]
    assert ops.status == "passed" and ops.message == "2 operations valid against the schema"


def test_an_operation_on_a_field_the_schema_lacks_fails_with_graphql_cores_message_and_line():
    text = SDL + "\nThen:\n\n```graphql\nquery {\n  book(id: 1) { titel }\n}\n```\n"
    row = rows_of(text)["GraphQL operations: block 2 (graphql)"]
    assert row.status == "failed"
    assert row.message.startswith("block 2 (graphql) line 2, column 17: Cannot query field 'titel' on type 'Book'.")
    assert row.details["answer_line"] == text.split("\n").index("  book(id: 1) { titel }") + 1


def test_a_schema_with_an_unknown_type_fails_and_its_operations_are_skipped():
    text = SDL.replace("author: Author }", "author: Writer }") + "\n" + GOOD_OPS
    rows = rows_of(text)
    assert rows["GraphQL schema"].status == "failed"
    assert rows["GraphQL schema"].message == "schema.graphql line 2, column 44: Unknown type 'Writer'."
    assert rows["GraphQL schema"].details["answer_line"] == 3
    assert rows["GraphQL operations: block 2 (graphql)"].status == "skipped"


def test_an_interface_not_implemented_is_caught_by_schema_validation():
    text = "```graphql\ninterface Node { id: ID! }\ntype Thing implements Node { name: String }\n" \
           "type Query { thing: Thing }\n```\n"
    row = rows_of(text)["GraphQL schema"]
    assert row.status == "failed"
    assert "Interface field Node.id expected but Thing does not provide it." in row.message


def test_a_syntax_error_is_a_failed_schema_row_with_its_line():
    row = rows_of("```graphql\ntype Query {\n  books: [Book!\n}\n```\n")["GraphQL schema"]
    assert row.status == "failed" and row.details["line"] == 3 and row.details["answer_line"] == 4
    assert "Syntax Error" in row.message


def test_operations_without_a_schema_are_skipped_with_the_reason():
    rows = rows_of(GOOD_OPS)
    assert list(rows) == ["GraphQL operations: block 1 (graphql)"]
    assert rows["GraphQL operations: block 1 (graphql)"].message == \
        "no GraphQL schema (SDL) in this answer to validate them against"


def test_the_rows_come_through_checks_run():
    report = checks.run(extract(SDL), answer_text=SDL, sql=False)
    assert [r.status for r in report.rows if r.name == "GraphQL schema"] == ["passed"]


def test_a_document_past_the_token_budget_is_refused_not_parsed():
    fields = " ".join(f"f{i}: Int" for i in range(30_000))
    row = rows_of(f"```graphql\ntype Query {{ {fields} }}\n```\n")["GraphQL schema"]
    assert row.status == "failed" and "more than 50000 tokens" in row.message


def test_deeply_nested_operations_cost_one_row():
    query = "query { " + "book(id: 1) { " * 3000 + "id" + " }" * 3001
    rows = rows_of(SDL + f"\n```graphql\n{query}\n```\n")
    assert rows["GraphQL schema"].status == "passed"
    assert rows["GraphQL operations: block 2 (graphql)"].message.endswith(
        "Syntax Error: Document is nested too deeply. Parsing aborted.")
