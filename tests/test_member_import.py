"""CSV import of members: what a facilitator's spreadsheet export produces,
good rows and bad rows together, in the encodings and languages people use."""

import io

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.errors import PermissionDenied
from consult.forums import member_import, services
from consult.forums.groups import groups_of
from consult.forums.models import Coalition, Invitation, Membership
from consult.forums.permissions import membership_of
from tests.factories import link_in, outbox, sign_in

HEADER = "name,email,coalition,country,language,groups\n"


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def user_by_email(session, email):
    return session.scalar(select(User).where(User.email == email))


def coalition_names(session, forum):
    return sorted(session.scalars(select(Coalition.name).where(Coalition.forum_id == forum.id)))


@pytest.fixture
def run_import(session, forum, facilitator):
    """Import ``text`` (or bytes) as the facilitator, committed like the route does."""

    def run(data, encoding="utf-8"):
        raw = data if isinstance(data, bytes) else data.encode(encoding)
        with force_locale("en"):
            report = member_import.import_members(facilitator, forum, raw)
        session.commit()
        return report

    return run


def rows_by_line(report):
    return {row.line: row for row in report.rows}


def test_bad_row_does_not_abort_good_rows(session, make, forum, run_import):
    health = make.group(forum, "Salud")
    make.member(forum, make.user("ya@example.org"))
    report = run_import(
        HEADER
        + "Ana Gómez,ana@example.org,Red Sur,CO,es,Salud\n"  # 2 good
        + "Correo Malo,not-an-email,,,,\n"  # 3 invalid email
        + ",sin-nombre@example.org,,,,\n"  # 4 missing name
        + "País Raro,pais@example.org,,Atlantis,,\n"  # 5 unknown country
        + "Grupo Raro,grupo@example.org,,,,Inexistente\n"  # 6 unknown group
        + "Idioma Raro,idioma@example.org,,,fr,\n"  # 7 unknown language
        + "Ana Otra,ANA@example.org,,,,\n"  # 8 repeated email
        + "Ya Miembro,ya@example.org,Coalición Fantasma,,,\n"  # 9 already a member
        + "Bruno Lima,bruno@example.org,red sur,BR,pt,\n"  # 10 good
    )
    assert report.error is None
    assert (report.imported, report.rejected) == (2, 7)
    lines = rows_by_line(report)
    assert lines[2].ok and lines[10].ok
    expected = {
        3: "not a valid email",
        4: "name is missing",
        5: "Unknown country",
        6: "Unknown working group",
        7: "Unknown language",
        8: "appears twice",
        9: "already a member",
    }
    for line, reason in expected.items():
        assert not lines[line].ok and reason in lines[line].message, (line, lines[line])

    for email in (
        "sin-nombre@example.org",
        "pais@example.org",
        "grupo@example.org",
        "idioma@example.org",
    ):
        assert user_by_email(session, email) is None, email
        assert outbox(session, email) == []
    # The coalition named only on the rejected row 9 was not created; "red sur" is "Red Sur".
    assert coalition_names(session, forum) == ["Red Sur"]
    assert report.new_coalitions == ["Red Sur"]

    ana = user_by_email(session, "ana@example.org")
    bruno = user_by_email(session, "bruno@example.org")
    assert (ana.display_name, ana.country, ana.locale) == ("Ana Gómez", "CO", "es")
    assert (bruno.country, bruno.locale) == ("BR", "pt")
    red_sur = services.find_coalition(forum, "Red Sur")
    assert membership_of(ana, forum).coalition_id == red_sur.id
    assert membership_of(bruno, forum).coalition_id == red_sur.id
    assert [group.id for group in groups_of(ana, forum)] == [health.id]
    assert groups_of(bruno, forum) == []
    for user in (ana, bruno):
        [message] = outbox(session, user.email)
        assert message.locale == user.locale
        link_in(message, "/invitations/")
        assert count(session, Invitation, Invitation.user_id == user.id) == 1


def test_line_numbers_stay_right_after_a_blank_line(run_import):
    report = run_import(HEADER + "Uno,uno@example.org\n\n,dos@example.org\n")
    assert [(row.line, row.ok) for row in report.rows] == [(2, True), (4, False)]


def test_group_named_like_another_groups_slug_is_the_named_group(session, make, forum, run_import):
    accented, plain = make.group(forum, "Género"), make.group(forum, "Genero")
    assert (accented.slug, plain.slug) == ("genero", "genero-2")
    report = run_import("name,email,groups\nUno,uno@example.org,Genero\n")
    assert report.imported == 1
    assert groups_of(user_by_email(session, "uno@example.org"), forum) == [plain]


def test_overlong_name_neither_aborts_the_import_nor_overflows(session, run_import):
    report = run_import("name,email\n" + "x" * 300 + ",long@example.org\nOk,ok@example.org\n")
    assert any(row.ok and row.subject == "ok@example.org" for row in report.rows)
    long = user_by_email(session, "long@example.org")
    assert long is None or len(long.display_name) <= 200


def test_utf8_with_bom_and_semicolons(session, run_import):
    text = "name;email;country\nJoão Conceição;joao@example.org;PT\n"
    report = run_import(text.encode("utf-8-sig"))
    assert report.imported == 1, report
    user = user_by_email(session, "joao@example.org")
    assert (user.display_name, user.country) == ("João Conceição", "PT")


def test_windows_1252_file(session, run_import):
    text = "name,email,coalition\nJosé Pérez,jose@example.org,Coalición “Ñandú”\n"
    report = run_import(text, encoding="cp1252")
    assert report.imported == 1, report
    assert user_by_email(session, "jose@example.org").display_name == "José Pérez"
    assert report.new_coalitions == ["Coalición “Ñandú”"]


def test_latin1_file(session, run_import):
    report = run_import("name,email\nConceição Araújo,ca@example.org\n", encoding="latin-1")
    assert report.imported == 1, report
    assert user_by_email(session, "ca@example.org").display_name == "Conceição Araújo"


def test_crlf_line_endings_and_a_quoted_newline(session, run_import):
    text = (
        'name,email,groups\r\n"Maria\r\nda Silva",maria@example.org,\r\n'
        "Pedro Souza,pedro@example.org,\r\n"
    )
    report = run_import(text)
    assert [(row.subject, row.ok) for row in report.rows] == [
        ("maria@example.org", True),
        ("pedro@example.org", True),
    ]
    name = user_by_email(session, "maria@example.org").display_name
    assert name.startswith("Maria") and name.endswith("da Silva") and "\n" in name
    assert user_by_email(session, "pedro@example.org").display_name == "Pedro Souza"


@pytest.mark.parametrize(
    "header",
    [
        "nombre,correo,coalición,país,idioma,grupos",
        "nome,e-mail,coalizão,país,idioma,grupos de trabalho",
        "Nombre,Correo electrónico,Coalicion,Pais,Idioma,Grupos de trabajo",
    ],
)
def test_spanish_and_portuguese_headers(session, make, forum, run_import, header):
    water = make.group(forum, "Agua")
    report = run_import(
        header
        + "\n"
        + "Carla Brito,carla@example.org,Rede Norte,Brasil,pt,agua\n"
        + "Diego Ruiz,diego@example.org,,Colombia,en,\n"
        + "Eva Neves,eva@example.org,,co,,\n"
        + "Fábio Melo,fabio@example.org,,Alemanha,,\n"
        + "Gloria Paz,gloria@example.org,,Estados Unidos,,\n"
    )
    assert (report.error, report.imported, report.rejected) == (None, 5, 0), report
    countries = {
        email: user_by_email(session, f"{email}@example.org").country
        for email in ("carla", "diego", "eva", "fabio", "gloria")
    }
    assert countries == {"carla": "BR", "diego": "CO", "eva": "CO", "fabio": "DE", "gloria": "US"}
    carla = user_by_email(session, "carla@example.org")
    assert carla.locale == "pt"
    assert membership_of(carla, forum).coalition.name == "Rede Norte"
    assert groups_of(carla, forum) == [water]
    assert user_by_email(session, "diego@example.org").locale == "en"


@pytest.mark.parametrize(
    "header, missing",
    [
        ("name,coalition", "email"),
        ("correo,país", "name"),
        ("coalition", "name, email"),
    ],
)
def test_missing_required_column_imports_nothing(session, forum, run_import, header, missing):
    members_before = count(session, Membership, Membership.forum_id == forum.id)
    report = run_import(header + "\nAna,ana@example.org\n")
    assert report.error is not None and f"missing: {missing}" in report.error
    assert report.rows == [] and report.imported == 0
    assert count(session, Membership, Membership.forum_id == forum.id) == members_before
    assert user_by_email(session, "ana@example.org") is None


def test_formula_cells_are_stored_verbatim_as_text(session, run_import):
    report = run_import(
        'name,email\n"=HYPERLINK(""http://x"")",formula@example.org\n+SUM(1;2),plus@example.org\n'
    )
    assert report.imported == 2, report
    assert user_by_email(session, "formula@example.org").display_name == '=HYPERLINK("http://x")'
    assert user_by_email(session, "plus@example.org").display_name == "+SUM(1;2)"


def test_new_coalition_is_created_once_even_if_many_rows_name_it(session, forum, run_import):
    report = run_import(
        "name,email,coalition,country\n"
        "Uno,uno@example.org,Red Norte,MX\n"
        "Dos,dos@example.org,RED NORTE,\n"
        "Tres,tres@example.org,  red norte ,\n"
    )
    assert report.imported == 3, report
    assert coalition_names(session, forum) == ["Red Norte"]
    assert report.new_coalitions == ["Red Norte"]
    coalition = services.find_coalition(forum, "red norte")
    assert coalition.country == "MX"
    assert count(session, Membership, Membership.coalition_id == coalition.id) == 3


def test_non_ascii_coalition_is_created_once(session, forum, run_import):
    report = run_import(
        "name,email,coalition\nUno,uno@example.org,Coalición Ñandú\n"
        "Dos,dos@example.org,COALICIÓN ÑANDÚ\n"
    )
    assert report.imported == 2
    assert coalition_names(session, forum) == ["Coalición Ñandú"]


def test_existing_coalition_is_reused(session, make, forum, run_import):
    existing = make.coalition(forum, "Red Sur")
    report = run_import("name,email,coalition\nUno,uno@example.org,RED SUR\n")
    assert report.imported == 1 and report.new_coalitions == []
    assert (
        membership_of(user_by_email(session, "uno@example.org"), forum).coalition_id == existing.id
    )


def test_existing_account_is_added_not_invited(session, make, forum, run_import):
    existing = make.user("known@example.org", locale="en")
    report = run_import("name,email\nSomeone Else,Known@Example.org\n")
    assert report.imported == 1 and "Existing account" in report.rows[0].message
    assert membership_of(existing, forum) is not None
    assert count(session, Invitation, Invitation.user_id == existing.id) == 0
    [message] = outbox(session, "known@example.org")
    assert "/invitations/" not in message.body_text


# --- through the route ----------------------------------------------------------


def upload(client, forum, text):
    data = {"file": (io.BytesIO(text.encode()), "members.csv", "text/csv")}
    return client.post(
        f"/forums/{forum.slug}/manage/members/import", data=data, content_type="multipart/form-data"
    )


def test_import_route_shows_the_report(client, session, forum, facilitator):
    sign_in(client, facilitator)
    response = upload(client, forum, "name,email\nAna,ana@example.org\nBeto,beto\n")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "1 imported, 1 rejected." in html
    assert "<td>3</td>" in html and "not a valid email" in html
    assert membership_of(user_by_email(session, "ana@example.org"), forum) is not None


def test_import_route_refuses_a_file_without_the_required_columns(
    client, session, forum, facilitator
):
    sign_in(client, facilitator)
    response = upload(client, forum, "nombre,coalición\nAna,Red\n")
    assert response.status_code == 400
    assert "missing: email" in response.get_data(as_text=True)
    assert coalition_names(session, forum) == []


def test_plain_member_cannot_import(client, session, make, forum):
    member = make.member(forum).user
    sign_in(client, member)
    response = upload(client, forum, "name,email\nAna,ana@example.org\n")
    assert response.status_code == 403
    assert user_by_email(session, "ana@example.org") is None
    with pytest.raises(PermissionDenied):
        member_import.import_members(member, forum, b"name,email\nAna,ana@example.org\n")
    assert user_by_email(session, "ana@example.org") is None
