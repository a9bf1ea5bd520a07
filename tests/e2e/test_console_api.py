"""The JSON routes behind the web console, with a real `reco serve` and a token: the model registry
(/models...), the warehouse (/warehouse/tables, /warehouse/query), the user explorer
(/endpoints/NAME/users/ID), deployment by PUT /endpoints/NAME, per-endpoint traffic in
GET /endpoints, and the console's page and assets. Bad input included. Generated data: no
MovieLens needed."""
import json
import os
import subprocess
import tempfile
import unittest

from recotest import RECO, generated_home, run_in_home
from test_serve import ServeTestCase

TOKEN = "console-api-token-0123456789"
AUTH = {"Authorization": "Bearer " + TOKEN}
JSON_AUTH = dict(AUTH, **{"Content-Type": "application/json"})


class ConsoleApi(ServeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="reco-console-api-")
        cls.home = generated_home(cls.tmp.name, users=60, items=120, ratings=3000, seed=4)
        cls.run_reco("train", "--input", "ratings", "--output", "recs", "--model", "m", "--set", "n_factors=5")
        cls.run_reco("train", "--input", "ratings", "--model", "m", "--folds", "0", "--set", "n_factors=8")
        cls.run_reco("sql", "-c", "create table \"<b>x</b>\" (a integer)",
                     "-c", "create table ratings_copy as select * from ratings")
        cls.run_reco("train", "--input", "ratings_copy", "--model", "gone")
        cls.run_reco("sql", "-c", "drop table ratings_copy")
        cls.run_reco("endpoints", "deploy", "web", "models:/m/1")
        cls.run_reco("endpoints", "deploy", "orphan", "models:/gone")
        cls.run_reco("endpoints", "deploy", "pushed", "models:/m/1")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def run_reco(cls, *args):
        return run_in_home(cls.home, *args).stdout

    def setUp(self):
        self.server = self.serve(self.home, "--token", TOKEN)

    def get(self, path, headers=AUTH):
        return self.server.request("GET", path, headers=headers)

    def query(self, body):
        return self.server.request("POST", "/warehouse/query", body if isinstance(body, str) else json.dumps(body),
                                   JSON_AUTH)

    def test_the_page_and_its_assets_are_public_and_locked_down(self):
        r = self.server.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/html"))
        self.assertIn("default-src 'self'", r.headers["Content-Security-Policy"])
        self.assertEqual(r.headers["X-Frame-Options"], "DENY")
        self.assertIn(b"/console/app.js", r.body)
        for asset, kind in (("app.js", "text/javascript"), ("style.css", "text/css"), ("icon.svg", "image/svg+xml")):
            a = self.server.request("GET", "/console/" + asset)
            self.assertEqual(a.status, 200, asset)
            self.assertTrue(a.headers["Content-Type"].startswith(kind), a.headers["Content-Type"])
            again = self.server.request("GET", "/console/" + asset, headers={"If-None-Match": a.headers["ETag"]})
            self.assertEqual(again.status, 304)
        for bad in ("/console/nope.js", "/console/../README.md", "/console/.hidden", "/console/%2e%2e/x"):
            self.assertEqual(self.server.request("GET", bad).status, 404, bad)

    def test_data_needs_the_token(self):
        for path in ("/models", "/models/m", "/models/m/versions/1", "/warehouse/tables", "/endpoints/web/users/1"):
            r = self.get(path, headers={})
            self.assertEqual(r.status, 401, path)
            self.assertNotIn(b"ratings", r.body)
            self.assertEqual(self.get(path, headers={"Authorization": "Bearer wrong-token-wrong-token"}).status, 401)
        r = self.server.request("POST", "/warehouse/query", '{"sql": "select 1"}', {"Content-Type": "application/json"})
        self.assertEqual(r.status, 401)

    def test_models_versions_and_their_plots(self):
        models = self.get("/models").json()["models"]
        self.assertEqual([m["model"] for m in models], ["gone", "m"])
        m = models[1]["versions"]
        self.assertEqual([v["version"] for v in m], [1, 2])
        self.assertIn("web", m[0]["endpoints"])
        self.assertNotIn("web", m[1]["endpoints"])
        self.assertEqual(m[0]["factors"], 5)
        self.assertEqual(self.get("/models/m").json()["versions"], m)

        v1 = self.get("/models/m/versions/1").json()
        self.assertEqual(v1["metadata"]["hyperparameters"]["n_factors"], 5)
        run = v1["run"]
        self.assertEqual(len(run["cv"]["rmse"]), 5)
        diag = run["diagnostics"]
        self.assertEqual(len(diag["epoch_rmse"]), 5)
        self.assertTrue(all(len(c) == 20 for c in diag["epoch_rmse"]))
        self.assertEqual(len(diag["fit_epoch_rmse"]), 20)
        hist = diag["predictions"]
        self.assertEqual(hist["bins"][0], 0.5)
        self.assertEqual(sum(hist["actual"]), 3000)
        self.assertEqual(sum(hist["predicted"]), 3000)
        self.assertEqual(self.get("/models/m/versions/v1").json()["version"], 1)
        v2 = self.get("/models/m/versions/2").json()["run"]
        self.assertIsNone(v2["cv"])  # --folds 0: no CV, but the refit's learning curve
        self.assertEqual(len(v2["diagnostics"]["fit_epoch_rmse"]), 20)

        for path, needle in (("/models/nope", "no model named nope"), ("/models/m/versions/3", "available versions: 1, 2"),
                             ("/models/m/versions/abc", "no version abc"), ("/models/m/versions/0", "no version 0"),
                             ("/models/.x", "no model")):
            r = self.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertIn(needle, r.json()["error"], path)

    def test_tables_and_read_only_queries(self):
        t = self.get("/warehouse/tables").json()
        names = [x["name"] for x in t["tables"]]
        self.assertIn("<b>x</b>", names)
        self.assertIn("ratings", names)
        self.assertFalse(any(n.startswith("_reco") for n in names))
        ratings = [x for x in t["tables"] if x["name"] == "ratings"][0]
        self.assertEqual(ratings["rows"], 3000)
        self.assertEqual(t["backend"], "sqlite")

        r = self.query({"sql": "select userid, count(*) as n from ratings group by 1 order by 1", "limit": 5})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["columns"], ["userid", "n"])
        self.assertEqual(len(body["rows"]), 5)
        self.assertTrue(body["truncated"])
        self.assertEqual(self.query({"sql": "select null, 1.5, 'a'"}).json()["rows"], [[None, 1.5, "a"]])

        for bad, status, needle in (
                ("not json", 400, "JSON object"), ({"sql": 5}, 400, "JSON object"), ({"q": "select 1"}, 400, "JSON object"),
                ({"sql": "select 1", "limit": 0}, 400, "limit must be"), ({"sql": "select 1", "limit": 10**6}, 400, "limit must be"),
                ({"sql": "select 1", "limit": "5"}, 400, "limit must be"),
                ({"sql": "delete from ratings"}, 400, "only reads: DELETE"),
                ({"sql": "drop table ratings"}, 400, "only reads"),
                ({"sql": "select 1; delete from ratings"}, 400, "one statement"),
                ({"sql": "attach database 'x.db' as x"}, 400, "ATTACH"),
                ({"sql": "select * from nowhere"}, 400, "no such table")):
            r = self.query(bad)
            self.assertEqual(r.status, status, (bad, r))
            self.assertIn(needle, r.json()["error"], bad)
        self.assertEqual(self.query({"sql": "select count(*) from ratings"}).json()["rows"], [[3000]])

    def test_user_explorer(self):
        user = self.query({"sql": "select userid from ratings group by 1 having count(*) between 20 and 60 limit 1"}).json()["rows"][0][0]
        rated = self.query({"sql": "select movieid, rating from ratings where userid = %d" % user}).json()["rows"]
        r = self.get("/endpoints/web/users/%d" % user).json()
        self.assertTrue(r["known"])
        self.assertEqual((r["model"], r["version"], r["ratings_table"]), ("m", 1, "ratings"))
        self.assertEqual(sorted((x["item"], x["rating"]) for x in r["rated"]), sorted((a, b) for a, b in rated))
        self.assertEqual([x["rating"] for x in r["rated"]], sorted([x["rating"] for x in r["rated"]], reverse=True))
        recs = r["recommendations"]
        self.assertEqual([x["rank"] for x in recs], list(range(1, 11)))
        self.assertFalse({x["item"] for x in recs} & {a for a, _ in rated})
        titles = dict(self.query({"sql": "select movieid, title from movies"}).json()["rows"])
        for x in recs + r["rated"]:
            self.assertEqual(x["title"], titles[x["item"]])
        self.assertEqual([x["score"] for x in recs], sorted([x["score"] for x in recs], reverse=True))

        unknown = self.get("/endpoints/web/users/999999").json()
        self.assertFalse(unknown["known"])
        self.assertEqual(unknown["rated"], [])
        self.assertIn("not in the model's training data", unknown["notes"][0])
        self.assertEqual(len(unknown["recommendations"]), 10)

        orphan = self.get("/endpoints/orphan/users/%d" % user).json()  # its training table was dropped
        self.assertIsNone(orphan["ratings_table"])
        self.assertIn("is gone", orphan["notes"][0])
        self.assertTrue(orphan["rated"])
        self.assertTrue(all(x["rating"] is None for x in orphan["rated"]))

        self.assertEqual(self.get("/endpoints/web/users/abc").status, 400)
        self.assertEqual(self.get("/endpoints/web/users/1e3").status, 400)
        r = self.get("/endpoints/nope/users/1")
        self.assertEqual(r.status, 404)
        self.assertIn("nope", r.json()["error"])

    def test_put_endpoint_deploys_and_traffic_is_counted(self):
        payload = "1,1\n2,2\n"
        csv = dict(AUTH, **{"Content-Type": "text/csv"})
        before = self.server.request("POST", "/endpoints/pushed/invocations", payload, csv)
        self.assertEqual(before.status, 200)
        r = self.server.request("PUT", "/endpoints/pushed", json.dumps({"model_url": "models:/m/2"}), JSON_AUTH)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["version"], r.json()["status"]), (2, "Updated"))
        after = self.server.request("POST", "/endpoints/pushed/invocations", payload, csv)
        self.assertNotEqual(before.body, after.body)
        r = self.server.request("PUT", "/endpoints/fresh", json.dumps({"model_url": "models:/m"}), JSON_AUTH)
        self.assertEqual(r.status, 201, r)
        for body, status, needle in (("{}", 400, "model_url"), ("nope", 400, "model_url"),
                                     (json.dumps({"model_url": "models:/nope"}), 404, "nope"),
                                     (json.dumps({"model_url": "s3://bucket/x"}), 400, "s3://")):
            r = self.server.request("PUT", "/endpoints/pushed", body, JSON_AUTH)
            self.assertEqual(r.status, status, (body, r))
            self.assertIn(needle, r.json()["error"])
        r = self.server.request("PUT", "/endpoints/bad%20name", json.dumps({"model_url": "models:/m"}), JSON_AUTH)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.get("/endpoints/pushed").json()["version"], 2)  # the refusals changed nothing

        for _ in range(3):
            self.server.request("POST", "/endpoints/pushed/invocations", payload, csv)
        self.server.request("POST", "/endpoints/pushed/invocations", "not,a,payload\n", csv)
        self.get("/endpoints/pushed")  # a status page: not traffic
        eps = {e["name"]: e for e in self.get("/endpoints").json()["endpoints"]}
        t = eps["pushed"]["traffic"]
        self.assertEqual(t["requests"], 6)
        self.assertEqual(t["errors"], 1)
        self.assertEqual(t["predictions"], 10)
        self.assertGreater(t["latency_s"]["p95"], 0)
        self.assertEqual(eps["orphan"]["traffic"]["requests"], 0)

    def test_tasks(self):
        self.run_reco("tasks", "create", "daily", "--schedule", "0 3 * * * Europe/Paris", "--sql", "select 1")
        self.run_reco("tasks", "run", "daily")
        tasks = {t["name"]: t for t in self.get("/tasks").json()["tasks"]}
        t = tasks["daily"]
        self.assertEqual((t["schedule"], t["runs"], t["last_run"]["state"]), ("0 3 * * * Europe/Paris", 1, "Succeeded"))
        self.assertTrue(t["next_run"].endswith(":00:00Z"), t["next_run"])  # 03:00 Paris is 01:00 or 02:00 UTC
        one = self.get("/tasks/daily").json()
        self.assertEqual([r["state"] for r in one["history"]], ["Succeeded"])
        self.assertEqual(one["sql"], "select 1")
        for bad in ("/tasks/nope", "/tasks/.x"):
            r = self.get(bad)
            self.assertEqual(r.status, 404, bad)
            self.assertIn("GET /tasks lists them", r.json()["error"])
        self.assertEqual(self.get("/tasks", headers={}).status, 401)

    def test_cli_models_show(self):
        """`reco models show`: the same version, in a terminal."""
        out = self.run_reco("models", "show", "m/1")
        self.assertIn("model m version 1 (models:/m/1)", out)
        self.assertIn("RMSE (testset)", out)
        self.assertIn("Fold 5", out)
        self.assertRegex(out, r"n_factors +5\n")
        self.assertRegex(out, r"endpoints +.*web")
        self.assertIn("table ratings: 3000 ratings", out)
        latest = self.run_reco("models", "show", "m")
        self.assertIn("version 2", latest)
        self.assertIn("no cross-validation (trained with folds = 0)", latest)
        j = json.loads(self.run_reco("models", "show", "m/v1", "--json"))
        self.assertEqual(len(j["run"]["cv"]["rmse"]), 5)
        self.assertEqual(j["metadata"]["hyperparameters"]["n_factors"], 5)
        env = dict(os.environ, RECO_HOME=self.home)
        for ref, code, needle in (("m/9", 66, "available versions: 1, 2"), ("nope", 66, "nope"),
                                  ("m/x", 64, "not NAME/VERSION"), ("../m", 64, "")):
            p = subprocess.run([RECO, "models", "show", ref], capture_output=True, text=True, env=env)
            self.assertEqual(p.returncode, code, (ref, p.stderr))
            self.assertIn(needle, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
