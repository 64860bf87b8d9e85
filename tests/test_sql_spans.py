"""How a script is cut into statements (the texts and lines every check reports): the parser's cut for
a script that parses, the scanner's for one that does not, the same statements either way."""

from __future__ import annotations

from agentnb.checks import sql

SCRIPT = ("-- café ☕\nCREATE TABLE é (nom text DEFAULT 'crème -- not a comment');\r\n"
          "/* a /* nested */ comment */ COMMENT ON TABLE é IS 'ünï ; cödé' -- trailing\n;\n"
          "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
          "SELECT $$a;b$$;;")
EXPECTED = [("CREATE TABLE é (nom text DEFAULT 'crème -- not a comment')", 2),
            ("COMMENT ON TABLE é IS 'ünï ; cödé'", 3),
            ("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", 5),
            ("SELECT $$a;b$$", 6)]


def test_a_script_that_parses_is_cut_into_its_statements():
    sql.forget()
    assert sql.split_statements(SCRIPT) == EXPECTED


def test_a_script_that_does_not_parse_is_cut_the_same_way():
    broken = SCRIPT + "\nSELEC 1;"
    sql.forget()
    assert sql.split_statements(broken) == EXPECTED + [("SELEC 1", 7)]
    row = sql.check_syntax(broken)
    assert row.status == "failed" and row.details["line"] == 7


def test_the_kept_cut_belongs_to_its_script():
    sql.split_statements(SCRIPT)
    other = SCRIPT.replace("é", "e")
    assert sql.split_statements(other)[0] == ("CREATE TABLE e (nom text DEFAULT 'crème -- not a comment')", 2)
    assert sql.split_statements(SCRIPT) == EXPECTED
