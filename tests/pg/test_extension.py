"""The PostgreSQL extension (CREATE EXTENSION reco) against a real `reco serve`: the guide's
functions, both invoke paths, NULL arguments, bad input, the service down / hanging / answering
garbage, a cancel while train_and_get_recommendations polls, a redeployment seen within a
second, the grants and the token's secrecy. One database per test; one served home per module."""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import pgtest
import test_serve

ENV = pgtest.cluster_env()
pgtest.require_extension(ENV)
TOKEN = "pg-ext-token-0123456789abcdef"
_SHARED = {}


def shared():
    """One home with generated ratings and two trained versions of model `ratings`, and a
    `reco serve` on it with a token, for the whole module."""
    if "serve" not in _SHARED:
        home = tempfile.mkdtemp(prefix="reco-pgext-")
        _SHARED["home"] = home
        data = os.path.join(home, "generated")
        test_serve.run_reco(home, "generate", "movielens", data, "--users", "60", "--items", "120", "--ratings",
                            "2000", "--seed", "3")
        test_serve.run_reco(home, "load", "movielens", data)
        test_serve.run_reco(home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=8")
        test_serve.run_reco(home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=4", "--seed", "7")
        tokens = tempfile.mkdtemp(prefix="reco-pgext-token-")
        _SHARED["tokens"] = tokens
        _SHARED["token_file"] = pgtest.readable_token_file(tokens, TOKEN, ENV)
        _SHARED["serve"] = test_serve.Serve(home, "--token-file", _SHARED["token_file"])
    return _SHARED


def tearDownModule():
    if "serve" in _SHARED:
        _SHARED["serve"].close()
    for key in ("home", "tokens"):
        if key in _SHARED:
            shutil.rmtree(_SHARED[key], ignore_errors=True)


class Garbage(http.server.BaseHTTPRequestHandler):
    """A service that answers every request with the server's `answer` (status, body)."""

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer()

    def answer(self):
        status, body = self.server.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ExtensionTest(unittest.TestCase):
    def setUp(self):
        self.shared = shared()
        self.serve = self.shared["serve"]
        self.db = pgtest.create_database(ENV, "reco_ext")
        self.addCleanup(pgtest.drop_database, ENV, self.db)
        self.ep = "m_" + os.urandom(4).hex()  # endpoints live in the shared home
        self.sql("create extension reco")
        self.sql("alter database %s set reco.service_url = '%s'" % (self.db, self.serve.url))
        self.sql("alter database %s set reco.token_file = '%s'" % (self.db, self.shared["token_file"]))

    def sql(self, statement, check=True, env=None, verbose=False):
        e = dict(ENV)
        if env:
            e.update(env)
        extra = ["-v", "VERBOSITY=verbose"] if verbose else []
        return pgtest.psql(e, self.q(statement), *extra, check=check, database=self.db)

    def value(self, statement, **kw):
        return self.sql(statement, **kw).stdout.strip()

    def error(self, statement, **kw):
        p = self.sql(statement, check=False, **kw)
        self.assertNotEqual(p.returncode, 0, "expected an error from %s, got %r" % (statement, p.stdout))
        return p.stderr

    def deploy(self, url="models:/ratings/1"):
        return json.loads(self.value("select deploy_model('%s', '%s')" % (self.ep, url)))

    def q(self, statement):
        """statement with its endpoint `m` renamed to this test's own."""
        return statement.replace("'m'", "'%s'" % self.ep)

    def test_deploy_invoke_recommend_both_paths_agree(self):
        d = self.deploy()
        self.assertEqual((d["name"], d["version"], d["status"]), (self.ep, 1, "Created"))
        self.sql("create table pairs as select u::float as userid, i::float as movieid "
                 "from generate_series(1, 30) u, generate_series(1, 40) i")
        backend = self.value("select string_agg(invoke_model('m', userid, movieid)::text, ',' "
                             "order by userid, movieid) from pairs")
        http = self.value("set reco.invoke_mode = 'http'; select string_agg(invoke_model('m', userid, movieid)::text,"
                          " ',' order by userid, movieid) from pairs")
        self.assertEqual(backend, http)
        # The same numbers as the service's own inference route.
        payload = "".join("%d,%d\n" % (u, i) for u in (1, 2) for i in (1, 2, 3))
        r = self.serve.request("POST", "/endpoints/%s/invocations" % self.ep, payload,
                               {"Content-Type": "text/csv", "Authorization": "Bearer " + TOKEN})
        self.assertEqual(r.status, 200, r)
        expected = [float(x) for x in r.text().split()]
        got = self.value("select string_agg(invoke_model('m', u, i)::text, ',' order by u, i) "
                         "from generate_series(1, 2) u, generate_series(1, 3) i").split(",")
        self.assertEqual([round(float(x), 9) for x in got], [round(x, 9) for x in expected])
        # Ids of every type the guide's float columns may come as.
        same = self.value("select invoke_model('m', 1, 2) = invoke_model('m', 1.0::float8, 2::bigint) "
                          "and invoke_model('m', 1, 2) = invoke_model('m', '1.0', '2') "
                          "and invoke_model('m', 1, 2) = invoke_model('m', 1.0::numeric, 2.00::numeric) "
                          "and invoke_model('m', 1, 2) = invoke_model('m', 1::smallint, 2::real)")
        self.assertEqual(same, "t")
        recs = json.loads(self.value("select recommend('m', 1)"))
        self.assertEqual(len(recs), 10)
        self.assertEqual(len(json.loads(self.value("select recommend('m', 1.0::float8, 3)"))), 3)
        folded = json.loads(self.value("select recommend_for('m', '[[1, 5], [2, 4]]', 4)"))
        self.assertEqual(len(folded["recommendations"]), 4)
        # Redeploy, then roll back: each swap answered by the service.
        d2 = self.deploy(url="models:/ratings/2")
        self.assertEqual((d2["version"], d2["generation"]), (2, 2))
        r = json.loads(self.value("select rollback_model('m')"))
        self.assertEqual((r["version"], r["event"]), (1, "rollback"))
        r = json.loads(self.value("select rollback_model('m', 2)"))
        self.assertEqual(r["version"], 2)

    def test_null_arguments_give_null(self):
        self.deploy()
        row = self.value("select train_and_get_recommendations(null, 'x') is null, "
                         "train_and_get_recommendations('ratings', null) is null, "
                         "deploy_model(null, 'models:/ratings') is null, deploy_model('m', null) is null, "
                         "invoke_model(null, 1, 2) is null, invoke_model('m', null, 2) is null, "
                         "invoke_model('m', 1, null) is null, recommend(null, 1) is null, "
                         "recommend('m', null::int) is null, recommend('m', 1, null) is null, "
                         "recommend_for('m', null) is null, rollback_model(null) is null, "
                         "rollback_model('m', null) is null")
        self.assertEqual(row, "|".join(["t"] * 13))

    def test_bad_arguments_name_the_problem(self):
        self.deploy()
        self.assertIn("invoke_model: user_id must be an integer id (10, 10.0, '10' or '10.0'), got '1.5'",
                      self.error("select invoke_model('m', 1.5, 2)"))
        self.assertIn("invoke_model: item_id must be an integer id (10, 10.0, '10' or '10.0'), got 'abc'",
                      self.error("select invoke_model('m', '1', 'abc')"))
        self.assertIn("recommend: k must be between 1 and 10000, got 0", self.error("select recommend('m', 1, 0)"))
        err = self.error("select invoke_model('nope', 1, 2)", verbose=True)
        self.assertIn("42704", err)
        self.assertIn("invoke_model: no endpoint named 'nope'", err)
        err = self.error("select deploy_model('m2', 'models:/nosuchmodel')", verbose=True)
        self.assertIn("deploy_model: ", err)
        self.assertIn("nosuchmodel", err)
        err = self.error("select deploy_model('m', 'models:/ratings', '{\"promote_if\": {\"metric\": \"nope\"}}')")
        self.assertIn("nope", err)
        err = self.error("select train_and_get_recommendations('no_such_table', 'out')")
        self.assertIn("no_such_table", err)
        err = self.error("select train_and_get_recommendations('ratings', 'out', '{\"params\": {\"n_factors\": -1}}')")
        self.assertIn("n_factors", err)

    def test_train_through_the_service(self):
        started = time.monotonic()
        result = json.loads(self.value("select train_and_get_recommendations('ratings', 'recs_pg', "
                                       "'{\"params\": {\"n_factors\": 5}, \"folds\": 2}')"))
        self.assertLess(time.monotonic() - started, 60)
        self.assertEqual(result["model"], "ratings")
        self.assertEqual(result["output_table"], "recs_pg")
        job = result["job"]
        r = self.serve.request("GET", "/jobs/" + job, headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "Completed")

    def test_service_down_or_hanging_fails_within_the_timeout(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = "http://127.0.0.1:%d" % port
        started = time.monotonic()
        err = self.error("set reco.service_url = '%s'; select invoke_model('m', 1, 2)" % url)
        self.assertIn("cannot connect to reco serve at %s/endpoints/%s/artifact" % (url, self.ep), err)
        self.assertLess(time.monotonic() - started, 5)
        # A service that accepts the connection and never answers: the request timeout.
        with socket.socket() as hang:
            hang.bind(("127.0.0.1", 0))
            hang.listen(8)
            url = "http://127.0.0.1:%d" % hang.getsockname()[1]
            started = time.monotonic()
            err = self.error("set reco.service_url = '%s'; set reco.request_timeout = 300; "
                             "select deploy_model('m', 'models:/ratings')" % url)
            self.assertIn("reco serve at %s/deploy did not answer within 300 ms" % url, err)
            self.assertLess(time.monotonic() - started, 5)
        err = self.error("set reco.service_url = 'ftp://example'; select recommend('m', 1)")
        self.assertIn("reco.service_url must be an http:// or https:// URL", err)

    def test_garbage_answers_are_protocol_violations(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        url = "http://127.0.0.1:%d" % server.server_address[1]
        cases = [
            ((200, b"hello"), "deploy_model('m', 'x')", "with a body that is not JSON: 'hello'"),
            ((200, b'{"rows": []}'), "deploy_model('m', 'x')", "not the external-function protocol's"),
            ((200, b'{"data": [[0, "x"]]}'), "invoke_model('m', 1, 2)", "without an ETag"),
            ((202, b"{}"), "invoke_model('m', 1, 2)", "answered HTTP 202"),
            ((500, b"<html>oops</html>"), "deploy_model('m', 'x')", "answered HTTP 500: '<html>oops</html>'"),
            ((400, b'{"error": "the service says no"}'), "recommend('m', 1)", "recommend: the service says no"),
        ]
        for answer, call, fragment in cases:
            server.answer = answer
            err = self.error("set reco.service_url = '%s'; set reco.invoke_mode = 'backend'; select %s" % (url, call))
            self.assertIn(fragment, err, "answer %r" % (answer,))
        server.answer = (200, b'{"data": [[0, "not a number"]]}')
        err = self.error("set reco.service_url = '%s'; set reco.invoke_mode = 'http'; select invoke_model('m', 1, 2)"
                         % url)
        self.assertIn("a prediction that is not a number", err)
        # An artifact whose bytes are damaged: the checksum (or the framing) catches it.
        self.deploy()
        good = self.serve.request("GET", "/endpoints/%s/artifact" % self.ep, headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(good.status, 200)

        class Damaged(Garbage):
            def answer(self):
                body = bytearray(good.body)
                body[len(body) // 2] ^= 0xFF
                self.send_response(200)
                self.send_header("ETag", '"1-x"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(bytes(body))

        damaged = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Damaged)
        threading.Thread(target=damaged.serve_forever, daemon=True).start()
        self.addCleanup(damaged.shutdown)
        err = self.error("set reco.service_url = 'http://127.0.0.1:%d'; select invoke_model('m', 1, 2)"
                         % damaged.server_address[1])
        self.assertIn("checksum", err)

    def test_cancel_while_training_stops_waiting_and_the_job_goes_on(self):
        env = dict(os.environ, **ENV)
        env["PGDATABASE"] = self.db
        env["PGAPPNAME"] = "reco-cancel-test"
        p = subprocess.Popen(["psql", "-X", "-c", "select train_and_get_recommendations('ratings', 'recs_slow', "
                              "'{\"params\": {\"n_epochs\": 100000, \"n_factors\": 100}, \"folds\": 0}')"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                jobs = self.serve.request("GET", "/jobs", headers={"Authorization": "Bearer " + TOKEN}).json()
                running = [j for j in jobs["jobs"] if j["state"] == "InProgress"
                           and j.get("request", {}).get("output_table") == "recs_slow"]
                if running:
                    break
                time.sleep(0.05)
            self.assertTrue(running, "the training job did not start: %r" % jobs)
            time.sleep(0.3)
            started = time.monotonic()
            self.sql("select pg_cancel_backend(pid) from pg_stat_activity where application_name = 'reco-cancel-test'")
            _, err = p.communicate(timeout=10)
            self.assertLess(time.monotonic() - started, 3)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertIn("canceling statement due to user request", err)
        job = running[0]["id"]
        self.assertIn("training job %s goes on in reco serve at %s" % (job, self.serve.url), err)
        self.assertIn("reco jobs", err)
        r = self.serve.request("GET", "/jobs/" + job, headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(r.json()["state"], "InProgress")
        self.serve.request("DELETE", "/jobs/" + job, headers={"Authorization": "Bearer " + TOKEN})
        # statement_timeout stops the waiting the same way.
        err = self.error("set statement_timeout = '400ms'; select train_and_get_recommendations('ratings', "
                         "'recs_slow2', '{\"params\": {\"n_epochs\": 100000, \"n_factors\": 100}, \"folds\": 0}')")
        self.assertIn("canceling statement due to statement timeout", err)
        self.assertIn("goes on in reco serve", err)
        # reco.train_timeout gives up waiting the same way, with its own message.
        err = self.error("set reco.train_timeout = 1; select train_and_get_recommendations('ratings', "
                         "'recs_slow3', '{\"params\": {\"n_epochs\": 100000, \"n_factors\": 100}, \"folds\": 0}')")
        self.assertIn("train_and_get_recommendations: gave up waiting for the training job after 1 s "
                      "(reco.train_timeout)", err)
        self.assertIn("goes on in reco serve", err)
        jobs = self.serve.request("GET", "/jobs", headers={"Authorization": "Bearer " + TOKEN}).json()["jobs"]
        for j in jobs:
            if j["state"] == "InProgress":
                self.serve.request("DELETE", "/jobs/" + j["id"], headers={"Authorization": "Bearer " + TOKEN})

    def test_redeploy_is_seen_within_a_second(self):
        self.deploy()
        env = dict(os.environ, **ENV)
        env["PGDATABASE"] = self.db
        p = subprocess.Popen(["psql", "-X", "-qAt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, bufsize=1)
        self.addCleanup(lambda: (p.kill(), p.wait()))

        def ask(statement):
            p.stdin.write(statement + ";\n")
            p.stdin.flush()
            return p.stdout.readline().strip()

        first = ask(self.q("select invoke_model('m', 1, 2)"))
        # Redeploy from outside this backend: the service's own route.
        r = self.serve.request("PUT", "/endpoints/%s" % self.ep, json.dumps({"model_url": "models:/ratings/2"}),
                               {"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN})
        self.assertEqual(r.status, 200, r)
        deployed = time.monotonic()
        while True:
            now = ask(self.q("select invoke_model('m', 1, 2)"))
            if now != first:
                break
            self.assertLess(time.monotonic() - deployed, 1.0, "the redeployment was not seen within a second")
            time.sleep(0.05)
        self.assertLess(time.monotonic() - deployed, 1.2)
        expected = self.serve.request("POST", "/endpoints/%s/invocations" % self.ep, "1,2\n",
                                      {"Content-Type": "text/csv", "Authorization": "Bearer " + TOKEN}).text()
        self.assertAlmostEqual(float(now), float(expected), places=9)

    def test_grants_and_the_token_stay_private(self):
        self.deploy()
        password = "pw-" + os.urandom(6).hex()
        role = "alice_%s" % os.urandom(3).hex()
        self.sql("create role %s login password '%s'" % (role, password))
        self.addCleanup(pgtest.psql, ENV, "drop role if exists %s" % role, check=False)
        as_alice = {"PGUSER": role, "PGPASSWORD": password}
        self.assertIn("permission denied for function invoke_model",
                      self.error("select invoke_model('m', 1, 2)", env=as_alice))
        self.sql("grant reco_user to %s" % role)
        self.assertRegex(self.value("select invoke_model('m', 1, 2)", env=as_alice), r"^[0-9.]+$")
        self.assertEqual(len(json.loads(self.value("select recommend('m', 1, 2)", env=as_alice))), 2)
        self.assertIn("permission denied for function deploy_model",
                      self.error("select deploy_model('m', 'models:/ratings')", env=as_alice))
        self.assertIn("permission denied for function train_and_get_recommendations",
                      self.error("select train_and_get_recommendations('ratings', 'x')", env=as_alice))
        # Only superusers may point the functions (and the token) elsewhere or see the file.
        load = "select recommend('m', 1, 1); "
        self.assertIn("permission denied to set parameter \"reco.service_url\"",
                      self.error(load + "set reco.service_url = 'http://evil.example'", env=as_alice))
        self.assertIn("permission denied to set parameter \"reco.token_file\"",
                      self.error(load + "set reco.token_file = '/etc/passwd'", env=as_alice))
        self.assertIn("must be superuser or have privileges of pg_read_all_settings",
                      self.error(load + "show reco.token_file", env=as_alice))
        self.sql("grant reco_admin to %s" % role)
        self.assertEqual(json.loads(self.value("select deploy_model('m', 'models:/ratings/2')", env=as_alice))["version"], 2)
        # The token is in no setting and no activity row.
        settings = self.value("select string_agg(name || '=' || setting, ' ') from pg_settings")
        self.assertNotIn(TOKEN, settings)
        self.assertNotIn(TOKEN, self.value("select string_agg(coalesce(query, ''), ' ') from pg_stat_activity"))
        # A wrong token: refused, the token not echoed.
        tokens = tempfile.mkdtemp(prefix="reco-pgext-wrong-")
        self.addCleanup(shutil.rmtree, tokens, True)
        wrong = pgtest.readable_token_file(tokens, "wrong-token-42", ENV)
        err = self.error("set reco.token_file = '%s'; select recommend('m', 1)" % wrong, verbose=True)
        self.assertIn("28000", err)
        self.assertNotIn("wrong-token-42", err)
        err = self.error("set reco.token_file = '/nonexistent/token'; select recommend('m', 1)")
        self.assertIn("reco.token_file: cannot read /nonexistent/token", err)


if __name__ == "__main__":
    unittest.main()
