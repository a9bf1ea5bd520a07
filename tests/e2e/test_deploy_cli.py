#!/usr/bin/env python3
"""Endpoints, jobs and predictions from the command line and SQL, without a server:
`reco endpoints`, `reco jobs`, `reco predict FILE --endpoint/--model/--url`, deploy_model and
invoke_model through the stock sqlite3 shell with the extension."""
import http.server
import json
import os
import shutil
import subprocess
import threading

import recotest

GUIDE_PAYLOAD = "1,308\n1,425\n2,541\n2,1197\n"


class FakeInferenceServer(http.server.BaseHTTPRequestHandler):
    """Records what `reco predict --url` sends and answers like an inference container."""
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        FakeInferenceServer.seen.append((self.path, self.headers.get("Content-Type"),
                                         self.headers.get("Authorization"), body))
        if self.path.startswith("/endpoints/missing/"):
            self.send_json(404, {"error": {"code": "NotFound", "message": "no endpoint named 'missing'"}})
            return
        lines = body.splitlines()
        answer = "".join("%d.5\n" % i for i, _ in enumerate(lines))
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class DeployCliTest(recotest.RecoTestCase):
    def setUp(self):
        super().setUp()
        gen = os.path.join(self.home, "gen")
        self.reco("generate", "movielens", gen, "--users", "40", "--items", "60", "--ratings", "900", "--seed", "5")
        self.reco("load", "movielens", gen)
        self.sql("create table train as select userid, movieid, rating from ratings")
        self.reco("train", "--input", "train", "--model", "m", "--folds", "2")
        self.payload = os.path.join(self.home, "payload.csv")
        with open(self.payload, "w") as f:
            f.write("1,2\n1,3\n2,4\n")

    def test_deploy_predict_and_list(self):
        out = json.loads(self.reco("endpoints", "deploy", "ep", "models:/m", "--json").stdout)
        self.assertEqual((out["name"], out["model"], out["version"], out["generation"], out["status"]),
                         ("ep", "m", 1, 1, "Created"))
        by_endpoint = self.reco("predict", self.payload, "--endpoint", "ep").stdout.split()
        by_model = self.reco("predict", self.payload, "--model", "m").stdout.split()
        self.assertEqual(len(by_endpoint), 3)
        self.assertEqual(by_endpoint, by_model)
        single = self.reco("predict", "--endpoint", "ep", "1", "2").stdout.split()
        self.assertEqual(single, by_endpoint[:1])
        for value in by_endpoint:
            self.assertTrue(0.5 <= float(value) <= 5.0, value)
        # stdin works too
        piped = self.reco("predict", "-", "--endpoint", "ep", input="1,2\n").stdout.split()
        self.assertEqual(piped, by_endpoint[:1])

        listed = json.loads(self.reco("endpoints", "--json").stdout)
        self.assertEqual([e["name"] for e in listed], ["ep"])
        table = self.reco("endpoints").stdout
        self.assertIn("ep", table)
        self.assertIn("file://", table)
        shown = self.reco("endpoints", "show", "ep").stdout
        self.assertIn("models:/m", shown)

        self.reco("endpoints", "delete", "ep")
        gone = self.reco("endpoints", "show", "ep", check=False)
        self.assertEqual(gone.returncode, 66, gone.stderr)
        self.assertIn("no endpoint named 'ep'", gone.stderr)

    def test_bad_payloads_name_the_line(self):
        self.reco("endpoints", "deploy", "ep", "models:/m")
        cases = {
            "1,2\n\n": ": line 2 is empty",
            "1\n": ": line 1: expected 2 fields (user_id,item_id), found 1",
            "1,2,3\n": ": line 1: expected 2 fields (user_id,item_id), found 3",
            "1,x\n": ': line 1, field 2 (item_id): "x" is not an integer id',
            "1.5,2\n": ': line 1, field 1 (user_id): "1.5" is not an integer id',
            "": "empty body",
        }
        for body, expected in cases.items():
            with open(self.payload, "w") as f:
                f.write(body)
            p = self.reco("predict", self.payload, "--endpoint", "ep", check=False)
            self.assertEqual(p.returncode, 65, (body, p.stderr))
            self.assertIn(expected, p.stderr, body)
            self.assertEqual(p.stdout, "", "no partial output for %r" % body)

    def test_failed_redeploy_keeps_the_endpoint(self):
        self.reco("endpoints", "deploy", "ep", "models:/m")
        before = self.reco("predict", self.payload, "--endpoint", "ep").stdout
        corrupt = os.path.join(self.home, "corrupt.reco")
        with open(os.path.join(self.home, "models", "m", "v1", "model.reco"), "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 0xFF
        with open(corrupt, "wb") as f:
            f.write(data)
        p = self.reco("endpoints", "deploy", "ep", corrupt, check=False)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("checksum", p.stderr)
        p = self.reco("endpoints", "deploy", "ep", os.path.join(self.home, "nope.reco"), check=False)
        self.assertEqual(p.returncode, 66, p.stderr)
        shown = json.loads(self.reco("endpoints", "show", "ep", "--json").stdout)
        self.assertEqual(shown["generation"], 1)
        self.assertEqual(self.reco("predict", self.payload, "--endpoint", "ep").stdout, before)

    def test_jobs_record_every_training(self):
        p = self.reco("train", "--input", "no_such_table", "--model", "x", check=False)
        self.assertNotEqual(p.returncode, 0)
        jobs = json.loads(self.reco("jobs", "--json").stdout)
        self.assertEqual([j["state"] for j in jobs], ["Failed", "Completed"])
        self.assertIn("no_such_table", jobs[0]["failure"])
        done = jobs[1]
        self.assertEqual((done["result"]["model"], done["result"]["version"]), ("m", 1))
        shown = self.reco("jobs", "show", done["id"]).stdout
        self.assertIn("Completed", shown)
        self.assertIn("RMSE", shown)  # the CV table is in the job's log
        missing = self.reco("jobs", "show", "job-nope", check=False)
        self.assertEqual(missing.returncode, 66)

    def test_predict_over_http(self):
        FakeInferenceServer.seen = []
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeInferenceServer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        url = "http://127.0.0.1:%d" % server.server_address[1]
        out = self.reco("predict", self.payload, "--url", url, env={"RECO_TOKEN": "s3cret"}).stdout
        self.assertEqual(out, "0.5\n1.5\n2.5\n")
        path, ctype, auth, body = FakeInferenceServer.seen[-1]
        self.assertEqual((path, ctype, auth), ("/invocations", "text/csv", "Bearer s3cret"))
        self.assertEqual(body, "1,2\n1,3\n2,4\n")
        self.reco("predict", self.payload, "--url", url + "/", "--endpoint", "ep")
        self.assertEqual(FakeInferenceServer.seen[-1][0], "/endpoints/ep/invocations")
        p = self.reco("predict", self.payload, "--url", url, "--endpoint", "missing", check=False)
        self.assertEqual(p.returncode, 66)
        self.assertIn("HTTP 404: no endpoint named 'missing'", p.stderr)

    def test_invoke_model_in_stock_sqlite3(self):
        if not shutil.which("sqlite3"):
            self.fail("the sqlite3 shell is not installed (scripts/install-deps.sh installs it)")
        db = os.path.join(self.home, "warehouse.db")
        script = "\n".join([
            ".load %s" % os.path.splitext(recotest.EXTENSION)[0],
            "select json_extract(deploy_model('movielens-model-v1', 'models:/m'), '$.status');",
            "select invoke_model('movielens-model-v1', '1', 2.0) = invoke_model('movielens-model-v1', 1, 2);",
            # the least active user has plenty of unrated items to recommend
            "select json_array_length(recommend('movielens-model-v1', (select userid from ratings "
            "group by userid order by count(*), userid limit 1), 4));",
        ]) + "\n"
        env = dict(os.environ, RECO_HOME=self.home, RECO_QUIET="1")
        p = subprocess.run(["sqlite3", "-bail", db], input=script, capture_output=True, text=True, env=env,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["Created", "1", "4"])
        # The endpoint recorded by the extension is the one the CLI sees.
        self.assertEqual(json.loads(self.reco("endpoints", "--json").stdout)[0]["name"], "movielens-model-v1")


class GuidePayloadTest(recotest.RecoTestCase):
    def test_guide_payload_on_movielens(self):
        if not recotest.movielens_available():
            self.skipTest("MovieLens ml-latest-small not found at %r" % recotest.MOVIELENS)
        self.reco("load", "movielens", recotest.MOVIELENS)
        self.sql("create table ratings_train_data as select userid, movieid, rating from ratings")
        self.reco("train", "--input", "ratings_train_data", "--folds", "0")
        self.sql("select deploy_model('movielens-model-v1', 'models:/ratings_train_data')")
        payload = os.path.join(self.home, "payload.csv")
        with open(payload, "w") as f:
            f.write(GUIDE_PAYLOAD)
        out = self.reco("predict", payload, "--endpoint", "movielens-model-v1").stdout.split()
        self.assertEqual(len(out), 4)
        via_sql = self.query("select invoke_model('movielens-model-v1', 1, 308) as p")[0]["p"]
        self.assertAlmostEqual(float(out[0]), via_sql, places=12)


if __name__ == "__main__":
    recotest.main()
