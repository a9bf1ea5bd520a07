"""Version retention (issue 14): a model keeps the versions its policy says plus the ones
endpoints serve or would roll back to; `reco models delete` refuses versions in use; deletion is crash-safe."""
import json
import os

import recotest


class Retention(recotest.RecoTestCase):
    def setUp(self):
        super().setUp()
        data = os.path.join(self.home, "generated")
        self.reco("generate", "movielens", data, "--users", "30", "--items", "50", "--ratings", "500", "--seed", "1")
        self.reco("load", "movielens", data)

    def versions(self):
        return [m["version"] for m in json.loads(self.reco("models", "--json").stdout)]

    def train(self):
        self.reco("train", "--input", "ratings", "-k", "0", "--set", "n_epochs=1", "--set", "n_factors=2")

    def test_fifty_trainings_keep_the_policy_plus_what_endpoints_serve(self):
        self.assertIn("keep the newest 5 version(s)",
                      self.reco("models", "policy", "ratings", "--keep-versions", "5").stdout)
        for _ in range(2):
            self.train()
        self.reco("endpoints", "deploy", "pinned", "models:/ratings/2")
        for _ in range(48):
            self.train()
        self.assertEqual(self.versions(), [2, 46, 47, 48, 49, 50])
        # Rolled-back and deleted versions never give their numbers away.
        self.train()
        self.assertEqual(self.versions(), [2, 47, 48, 49, 50, 51])
        # The endpoint moves on: v2 stays while a rollback would go back to it...
        self.reco("endpoints", "deploy", "pinned", "models:/ratings/51")
        out = self.reco("models", "gc").stdout
        self.assertIn("models:/ratings/2 (endpoint pinned's rollback target)", out)
        self.assertEqual(self.versions(), [2, 47, 48, 49, 50, 51])
        # ...and once it would not, the next collection lets it go.
        self.reco("endpoints", "deploy", "pinned", "models:/ratings/50")
        out = self.reco("models", "gc").stdout
        self.assertIn("removed models:/ratings/2", out)
        self.assertEqual(self.versions(), [47, 48, 49, 50, 51])
        # Without a policy file a model keeps the newest 20.
        os.unlink(os.path.join(self.home, "models", "ratings", "policy.json"))
        self.assertIn("keep the newest 20 version(s)", self.reco("models", "policy", "ratings").stdout)

    def test_delete_refuses_versions_in_use_and_bad_policies(self):
        for _ in range(3):
            self.train()
        self.reco("endpoints", "deploy", "ep", "models:/ratings/2")
        r = self.reco("models", "delete", "ratings/2", check=False)
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertIn("models:/ratings/2 is in use by endpoint ep", r.stderr)
        r = self.reco("models", "delete", "ratings", check=False)
        self.assertIn("in use by endpoint ep", r.stderr)
        self.assertEqual(self.reco("models", "delete", "ratings/1").stdout, "removed models:/ratings/1\n")
        self.assertEqual(self.versions(), [2, 3])
        r = self.reco("models", "delete", "ratings/7", check=False)
        self.assertEqual(r.returncode, 66, r.stderr)
        r = self.reco("models", "policy", "ratings", "--keep-versions", "0", check=False)
        self.assertEqual(r.returncode, 64)
        self.assertIn("the newest version is always kept", r.stderr)
        r = self.reco("models", "delete", "ratings/x", check=False)
        self.assertEqual(r.returncode, 64)
        self.reco("endpoints", "delete", "ep")
        self.reco("models", "delete", "ratings")
        self.assertEqual(self.versions(), [])

    def test_a_deletion_killed_half_way_is_finished_by_the_next_command(self):
        for _ in range(2):
            self.train()
        models = os.path.join(self.home, "models", "ratings")
        # What remove_version leaves if killed after its rename: invisible, then cleaned up.
        os.rename(os.path.join(models, "v1"), os.path.join(models, ".deleting-v1-999999"))
        self.assertEqual(self.versions(), [2])
        self.assertEqual(sorted(os.listdir(models)), ["v2"])


if __name__ == "__main__":
    recotest.main()
