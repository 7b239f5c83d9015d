"""Dashboard users and API tokens over the brand API (review F23): list,
create, disable, enable, remove, password change and reset; tokens listed
without secrets, revoked, with an expiry; sessions of a disabled or
removed user end at once, and the tokens it made from a session die with
it; cross-brand 404, roles 403, bad input 4xx changing nothing; the CLI
equivalents."""
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import admin_login, Env, check, done  # noqa: E402

PW = "correct horse battery staple"


def login(srv, email, password=PW):
    return admin_login(srv, email, password, "10.9")


def session(srv, sess):
    cookie, csrf = sess

    def call(method, path, body=None):
        return srv.api(method, path, body=body,
                       headers={"Cookie": "sg_s=" + cookie,
                                "X-CSRF-Token": csrf})
    return call


def user_add(env, brand, email, role):
    return json.loads(env.sigil("user", "add", "--brand", brand, "--email",
                                email, "--role", role, "--json",
                                stdin=PW + "\n").stdout)["id"]


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    ann = user_add(env, "acme", "ann@acme.test", "admin")
    alan = user_add(env, "acme", "alan@acme.test", "admin")
    otto = user_add(env, "acme", "otto@acme.test", "operator")
    bob = user_add(env, "beta", "bob@beta.test", "admin")
    srv = env.start("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit",
                    "0")

    # ---- listing: no secrets ----
    st, doc = srv.api("GET", "users", A)
    emails = sorted(u["email"] for u in doc["users"])
    check(st == 200 and emails == ["alan@acme.test", "ann@acme.test",
                                   "otto@acme.test"],
          "GET users lists only acme's users: %s" % emails)
    check(all(set(u) == {"id", "email", "role", "created", "disabled"}
              for u in doc["users"]),
          "user entries carry no hash or salt")
    st, doc = srv.api("GET", "tokens", A)
    check(st == 200 and len(doc["tokens"]) == 3 and
          all(set(t) == {"id", "role", "created", "expires", "revoked",
                         "created_by", "active"} for t in doc["tokens"]) and
          "sgt_" not in json.dumps(doc),
          "GET tokens: id/role/created/expires/revoked, no secrets")
    st, doc = srv.api("GET", "tokens", B)
    check(st == 200 and len(doc["tokens"]) == 1, "beta sees only its token")

    # ---- roles: operator and analyst get 403 ----
    for tok, who in [(OP, "operator"), (AN, "analyst")]:
        for method, path, body in [
                ("GET", "users", None), ("GET", "tokens", None),
                ("POST", "tokens", {"role": "admin"}),
                ("POST", "users/%d/disable" % alan, None),
                ("DELETE", "users/%d" % alan, None),
                ("POST", "users/%d/password" % alan, {"password": PW + "x"}),
                ("POST", "tokens/1/revoke", None),
                ("DELETE", "tokens/1", None)]:
            st, _ = srv.api(method, path, tok, body)
            check(st == 403, "%s: %s %s -> 403 (%s)" % (who, method, path,
                                                        st))

    # ---- cross-brand: beta's admin gets 404 on acme's users and tokens --
    st, doc = srv.api("GET", "tokens", A)
    a_tok = doc["tokens"][0]["id"]
    for method, path, body in [
            ("GET", "users/%d" % ann, None),
            ("POST", "users/%d/disable" % ann, None),
            ("POST", "users/%d/enable" % ann, None),
            ("POST", "users/%d/password" % ann, {"password": PW + "x"}),
            ("DELETE", "users/%d" % ann, None),
            ("GET", "tokens/%d" % a_tok, None),
            ("POST", "tokens/%d/revoke" % a_tok, None),
            ("DELETE", "tokens/%d" % a_tok, None)]:
        st, doc = srv.api(method, path, B, body)
        check(st == 404 and doc["error"]["code"] == "not_found",
              "beta: %s %s -> 404 (%s)" % (method, path, st))
    st, _ = srv.api("GET", "batches", A)
    check(st == 200, "acme's token survived beta's attempts")
    st, _, _ = srv.request("GET", "/admin/me")
    st, s_ann = login(srv, "ann@acme.test")
    check(st == 200, "ann still logs in after beta's attempts")
    ann_api = session(srv, s_ann)

    # ---- bad input ----
    for method, path, body, want in [
            ("POST", "users/0/disable", None, 404),
            ("POST", "users/abc/disable", None, 404),
            ("POST", "users/99999/disable", None, 404),
            ("POST", "users/%d/frobnicate" % alan, None, 404),
            ("PUT", "users/%d" % alan, None, 405),
            ("POST", "users/%d/password" % alan, {"password": "short"}, 422),
            ("POST", "users/%d/password" % alan, {"password": 5}, 422),
            ("POST", "users/%d/password" % alan, {"pw": PW}, 422),
            ("POST", "users/%d/password" % alan, b"nope", 400),
            ("POST", "tokens", {"role": "root"}, 422),
            ("POST", "tokens", {"role": "admin", "expires": 0}, 422),
            ("POST", "tokens", {"role": "admin", "expires": 1.5}, 422),
            ("POST", "tokens", {"role": "admin", "expires": -100}, 422),
            ("POST", "tokens", {"role": "admin", "expires": "2001-01-01"},
             422),
            ("POST", "tokens", {"role": "admin", "expires": "soon"}, 422),
            ("POST", "tokens", {"role": "admin", "expires": 10 ** 12}, 422),
            ("POST", "tokens", {"role": "admin", "extra": 1}, 422),
            ("POST", "users", {"email": "x@acme.test", "role": "admin",
                               "password": "short"}, 422),
            ("POST", "users", {"email": "no-at", "role": "admin",
                               "password": PW}, 422),
            ("POST", "users", {"email": "ann@acme.test", "role": "admin",
                               "password": PW}, 409),
            ("POST", "users", {"email": "y@acme.test", "role": "boss",
                               "password": PW}, 422),
            ("POST", "tokens/%d/frob" % a_tok, None, 404)]:
        before = (srv.api("GET", "users", A)[1], srv.api("GET", "tokens",
                                                          A)[1])
        st, doc = srv.api(method, path, A, body)
        check(st == want, "bad input %s %s %r -> %d (%s %s)" % (
            method, path, body, want, st, doc))
        check((srv.api("GET", "users", A)[1],
               srv.api("GET", "tokens", A)[1]) == before,
              "  ... and nothing changed")

    # ---- own account: no self-disable, own password needs the old one --
    st, doc = ann_api("POST", "users/%d/disable" % ann)
    check(st == 409, "an admin cannot disable their own account")
    st, doc = ann_api("DELETE", "users/%d" % ann)
    check(st == 409, "nor remove it")
    st, doc = ann_api("POST", "users/%d/password" % ann, {"password": PW})
    check(st == 409, "nor reset their own password without the old one")
    st, doc = ann_api("POST", "users/me/password",
                      {"old_password": "wrong password!!",
                       "new_password": "a new one, long enough"})
    check(st == 403 and doc["error"]["code"] == "bad_credentials",
          "own password change with a wrong old password: 403")
    st, doc = srv.api("POST", "users/me/password", A,
                      {"old_password": PW, "new_password": "x" * 12})
    check(st == 403, "a bearer token has no own password: 403")
    st, s_ann2 = login(srv, "ann@acme.test")
    check(st == 200, "ann has a second session")
    st, doc = ann_api("POST", "users/me/password",
                      {"old_password": PW,
                       "new_password": "a new one, long enough"})
    check(st == 200, "own password changed with the old one")
    check(ann_api("GET", "batches")[0] == 200,
          "the session that changed it goes on")
    check(session(srv, s_ann2)("GET", "batches")[0] == 401,
          "ann's other session ends with the old password")
    check(login(srv, "ann@acme.test")[0] == 401, "old password: 401")
    st, s_ann = login(srv, "ann@acme.test", "a new one, long enough")
    check(st == 200, "new password logs in")
    ann_api = session(srv, s_ann)

    # ---- operator can change their own password (any role) ----
    st, s_otto = login(srv, "otto@acme.test")
    st, doc = session(srv, s_otto)("POST", "users/me/password",
                                   {"old_password": PW,
                                    "new_password": "otto's new password"})
    check(st == 200, "an operator changes their own password")

    # ---- admin resets another user's password ----
    st, s_otto = login(srv, "otto@acme.test", "otto's new password")
    st, doc = ann_api("POST", "users/%d/password" % otto,
                      {"password": "reset by ann 123"})
    check(st == 200, "admin resets otto's password")
    check(session(srv, s_otto)("GET", "batches")[0] == 401,
          "a reset ends otto's live session")
    check(login(srv, "otto@acme.test", "otto's new password")[0] == 401 and
          login(srv, "otto@acme.test", "reset by ann 123")[0] == 200,
          "otto's reset password is the one that works")

    # ---- disable: sessions stop at once, session-made tokens die ----
    st, s_alan = login(srv, "alan@acme.test")
    alan_api = session(srv, s_alan)
    st, doc = alan_api("POST", "tokens", {"role": "admin"})
    check(st == 201 and doc["token"].startswith("sgt_") and
          doc["created_by"] == alan and doc["expires"] is None,
          "alan's session mints a token (recorded as alan's)")
    alan_tok = doc["token"]
    st, doc = alan_api("POST", "tokens", {"role": "analyst",
                                          "expires": 3600})
    check(st == 201 and doc["expires"] is not None,
          "a token with an expiry in seconds")
    alan_tok2 = doc["token"]
    check(srv.api("GET", "batches", alan_tok)[0] == 200,
          "alan's token works while alan is enabled")
    st, doc = ann_api("POST", "users/%d/disable" % alan)
    check(st == 200 and doc["disabled"] is True and
          doc["tokens_revoked"] == 2, "ann disables alan (2 tokens revoked)")
    st, _ = alan_api("GET", "batches")
    check(st == 401, "alan's live session stops at once: 401")
    st, _, _ = srv.request("GET", "/admin/me",
                           headers={"Cookie": "sg_s=" + s_alan[0]})
    check(st == 401, "/admin/me for alan's session: 401")
    check(srv.api("GET", "batches", alan_tok)[0] == 401 and
          srv.api("GET", "batches", alan_tok2)[0] == 401,
          "tokens alan minted from his session: 401")
    check(login(srv, "alan@acme.test")[0] == 401,
          "a disabled user cannot log in (401, like a wrong password)")
    st, doc = srv.api("GET", "users/%d" % alan, A)
    check(st == 200 and doc["disabled"] is True, "alan shows as disabled")
    st, doc = ann_api("POST", "users/%d/enable" % alan)
    check(st == 200 and doc["disabled"] is False, "alan re-enabled")
    check(srv.request("GET", "/admin/me",
                      headers={"Cookie": "sg_s=" + s_alan[0]})[0] == 401,
          "re-enabling does not bring the old session back")
    st, s_alan = login(srv, "alan@acme.test")
    check(st == 200, "alan logs in again")
    check(srv.api("GET", "batches", alan_tok)[0] == 401,
          "revoked tokens stay revoked after re-enabling")
    # a password change must not undo a disable made meanwhile
    st, doc = ann_api("POST", "users/%d/disable" % alan)
    st, doc = ann_api("POST", "users/%d/password" % alan,
                      {"password": "another long one"})
    st, doc = srv.api("GET", "users/%d" % alan, A)
    check(doc["disabled"] is True, "a reset keeps alan disabled")
    ann_api("POST", "users/%d/enable" % alan)
    st, s_alan = login(srv, "alan@acme.test", "another long one")
    alan_api = session(srv, s_alan)

    # ---- remove: gone, sessions end, email free again ----
    st, doc = alan_api("POST", "tokens", {"role": "operator"})
    alan_tok3 = doc["token"]
    st, doc = srv.api("DELETE", "users/%d" % alan, A)
    check(st == 200 and doc["removed"] is True and
          doc["tokens_revoked"] == 1, "a token-holding admin removes alan")
    check(alan_api("GET", "batches")[0] == 401,
          "removed alan's session: 401")
    check(srv.api("GET", "batches", alan_tok3)[0] == 401,
          "removed alan's session-made token: 401")
    check(srv.api("GET", "users/%d" % alan, A)[0] == 404,
          "removed user: 404")
    check(login(srv, "alan@acme.test", "another long one")[0] == 401,
          "removed user cannot log in")
    st, doc = srv.api("POST", "users", A, {"email": "alan@acme.test",
                                           "role": "analyst",
                                           "password": PW})
    check(st == 201 and doc["role"] == "analyst" and doc["id"] != alan,
          "the email can be given to a new user")

    # ---- tokens: revoke, expiry ----
    st, doc = srv.api("POST", "tokens", A, {"role": "analyst",
                                            "expires": 60})
    short = doc["token"]
    short_id = doc["id"]
    check(st == 201 and doc["created_by"] is None,
          "a bearer-made token has no maker")
    day = str(datetime.date.today() + datetime.timedelta(days=700))
    st, doc = srv.api("POST", "tokens", A, {"role": "analyst",
                                            "expires": day})
    check(st == 201 and doc["expires"] == day + "T16:00:00.000Z",
          "a date expiry: the end of that day in China time (%s)" %
          (doc.get("expires") if st == 201 else doc))
    st, doc = srv.api("POST", "tokens", A, {"role": "analyst",
                                            "expires": "2099-12-31"})
    check(st == 422, "an expiry beyond 10 years: 422")
    check(srv.api("GET", "batches", short)[0] == 200,
          "a token before its expiry works")
    st, doc = srv.api("POST", "tokens/%d/revoke" % short_id, A)
    check(st == 200 and doc["revoked"] is not None and
          doc["active"] is False, "token revoked over the API")
    check(srv.api("GET", "batches", short)[0] == 401, "revoked: 401")
    st, doc = srv.api("POST", "tokens/%d/revoke" % short_id, A)
    check(st == 409, "revoking twice: 409")
    st, doc = srv.api("POST", "tokens", A, {"role": "operator"})
    st, doc = srv.api("DELETE", "tokens/%d" % doc["id"], A)
    check(st == 200 and doc["active"] is False, "DELETE tokens/{id} revokes")
    # an expired token: 2 seconds of life, over the API and the CLI
    st, doc = srv.api("POST", "tokens", A, {"role": "analyst",
                                            "expires": 2})
    brief = doc["token"]
    out = json.loads(env.sigil("token", "new", "--brand", "acme", "--role",
                               "analyst", "--expires", "2",
                               "--json").stdout)
    check(out["expires"] is not None, "sigil token new --expires")
    check(srv.api("GET", "batches", brief)[0] == 200 and
          srv.api("GET", "batches", out["token"])[0] == 200,
          "tokens work before their expiry")
    time.sleep(2.2)
    st, doc = srv.api("GET", "batches", brief)
    check(st == 401 and doc["error"]["code"] == "unauthorized",
          "an expired token: 401")
    check(srv.api("GET", "batches", out["token"])[0] == 401,
          "an expired CLI token: 401")
    st, doc = srv.api("GET", "tokens", A)
    now = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    expired = [t for t in doc["tokens"] if t["expires"] and
               t["expires"] < now]
    check(len(expired) >= 1 and not [t for t in expired if t["active"]],
          "expired tokens list as not active (%s, now %s)" % (expired, now))
    srv.stop()

    # ---- CLI ----
    r = env.sigil("user", "list", "--brand", "acme", "--json")
    users = [json.loads(x) for x in r.stdout.splitlines()]
    check(r.returncode == 0 and sorted(u["email"] for u in users) ==
          ["alan@acme.test", "ann@acme.test", "otto@acme.test"],
          "sigil user list")
    r = env.sigil("user", "disable", "--brand", "acme", "--email",
                  "otto@acme.test")
    check(r.returncode == 0, "sigil user disable")
    r = env.sigil("user", "list", "--brand", "acme", "--json")
    check(any(json.loads(x)["email"] == "otto@acme.test" and
              json.loads(x)["disabled"] for x in r.stdout.splitlines()),
          "otto shows disabled in the CLI list")
    r = env.sigil("user", "disable", "--brand", "beta", "--email",
                  "ann@acme.test", check=False)
    check(r.returncode == 2, "sigil user disable of another brand's user: 2")
    r = env.sigil("user", "enable", "--brand", "acme", "--email",
                  "otto@acme.test")
    r = env.sigil("user", "password", "--brand", "acme", "--email",
                  "otto@acme.test", stdin="set from the cli\n")
    check(r.returncode == 0, "sigil user password")
    r = env.sigil("user", "remove", "--brand", "acme", "--email",
                  "alan@acme.test")
    check(r.returncode == 0, "sigil user remove")
    r = env.sigil("user", "remove", "--brand", "acme", "--email",
                  "alan@acme.test", check=False)
    check(r.returncode == 2, "removing again: 2")
    for bad in ["0", "-5", "soon", "2001-01-01"]:
        r = env.sigil("token", "new", "--brand", "acme", "--role", "admin",
                      "--expires", bad, check=False)
        check(r.returncode == 2, "sigil token new --expires %s: 2" % bad)
    srv = env.start("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit",
                    "0")
    check(login(srv, "otto@acme.test", "set from the cli")[0] == 200,
          "otto logs in with the CLI-set password (re-enabled)")
    check(login(srv, "alan@acme.test", PW)[0] == 401,
          "CLI-removed alan cannot log in")
    r = env.sigil("user", "disable", "--brand", "acme", "--email",
                  "otto@acme.test")
    check(login(srv, "otto@acme.test", "set from the cli")[0] == 401,
          "CLI disable works while sigild runs")
    srv.stop()

done()
