"""GET /endpoints/{name}/artifact: the bytes of the artifact an endpoint serves, with an ETag
that changes when the endpoint is redeployed (304 while it does not), the generation and
version headers, the token required, 404 for an unknown endpoint. (What the PostgreSQL
extension's invoke_model predicts with in its own process.)"""
import os
import shutil
import tempfile
import unittest

from test_serve import TOKEN, ServeTestCase, run_reco

AUTH = {"Authorization": "Bearer " + TOKEN}


class ArtifactRouteTest(ServeTestCase):
    def test_bytes_etag_and_redeploy(self):
        home = tempfile.mkdtemp(prefix="reco-artifact-e2e-")
        self.addCleanup(shutil.rmtree, home, True)
        data = os.path.join(home, "generated")
        run_reco(home, "generate", "movielens", data, "--users", "20", "--items", "30", "--ratings", "300",
                 "--seed", "1")
        run_reco(home, "load", "movielens", data)
        run_reco(home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=3")
        run_reco(home, "train", "--input", "ratings", "-k", "0", "--set", "n_factors=2")
        server = self.serve(home, "--token", TOKEN)
        r = server.post_json("/deploy", {"data": [[0, "e", "models:/ratings/1"]]}, AUTH)
        self.assertEqual(r.status, 200, r)

        self.assert_error(server.request("GET", "/endpoints/e/artifact"), 401)
        self.assert_error(server.request("GET", "/endpoints/nope/artifact", headers=AUTH), 404, "nope")

        r = server.request("GET", "/endpoints/e/artifact", headers=AUTH)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
        with open(os.path.join(home, "models", "ratings", "v1", "model.reco"), "rb") as f:
            self.assertEqual(r.body, f.read())
        self.assertEqual(r.headers["X-Reco-Endpoint-Generation"], "1")
        self.assertEqual(r.headers["X-Reco-Model-Version"], "1")
        etag = r.headers["ETag"]
        self.assertRegex(etag, r'^"1-[0-9a-f]{16}"$')

        same = server.request("GET", "/endpoints/e/artifact", headers=dict(AUTH, **{"If-None-Match": etag}))
        self.assertEqual((same.status, same.body), (304, b""))
        self.assertEqual(same.headers["ETag"], etag)

        r = server.post_json("/deploy", {"data": [[0, "e", "models:/ratings/2"]]}, AUTH)
        self.assertEqual(r.status, 200, r)
        new = server.request("GET", "/endpoints/e/artifact", headers=dict(AUTH, **{"If-None-Match": etag}))
        self.assertEqual(new.status, 200, new)
        self.assertNotEqual(new.headers["ETag"], etag)
        self.assertEqual((new.headers["X-Reco-Endpoint-Generation"], new.headers["X-Reco-Model-Version"]), ("2", "2"))
        with open(os.path.join(home, "models", "ratings", "v2", "model.reco"), "rb") as f:
            self.assertEqual(new.body, f.read())


if __name__ == "__main__":
    unittest.main()
