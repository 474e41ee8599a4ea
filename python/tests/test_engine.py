"""Tests of rnn_engine against the real engine on small runs (RNN_ENGINE, an engine on PATH, or this checkout)."""
import json
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rnn_engine as re  # noqa: E402

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

E, N = 2, 16


class EngineTestCase(unittest.TestCase):
    """One small flip-flop run shared by the tests of the analysis verbs."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="rnn_engine_test_"))
        cls.lines = []
        cls.trained = re.train(cls.tmp / "run", task="flipflop", networks=E, hidden=N, max_epochs=40,
                               progress=cls.lines.append)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class TrainAndRun(EngineTestCase):
    def test_train_returns_summary_and_streams_progress(self):
        r = self.trained
        self.assertEqual(r.path, self.tmp / "run")
        self.assertTrue(r.checkpoint.is_file())
        self.assertEqual(r.summary, json.loads((r.path / "summary.json").read_text()))
        self.assertEqual(r.summary["networks"], E)
        self.assertEqual(r.summary["hidden"], N)
        self.assertEqual(r.final_loss.shape, (E,))
        self.assertEqual(len(r.status), E)
        self.assertTrue(any(l.startswith("epoch") for l in self.lines), self.lines[:5])
        m = r.metrics()
        self.assertEqual(set(m), {"network", "epoch", "loss", "learning_rate"})
        self.assertEqual(len(m["loss"]), E * 40)

    def test_run_arrays_have_documented_shapes_and_equal_the_files(self):
        B, T = 3, 12
        res = re.run(self.trained.path, self.tmp / "rec", trials=B, steps=T, progress=False)
        self.assertEqual(res.states.shape, (E, B, T, N))
        self.assertEqual(res.outputs.shape, (E, B, T, 3))
        self.assertEqual(res.inputs.shape, (B, T, 3))
        self.assertEqual(res.targets.shape, (B, T, 3))
        self.assertEqual(res.mask.shape[:2], (B, T))
        for name in ("states", "outputs", "inputs", "targets", "mask"):
            np.testing.assert_array_equal(getattr(res, name), np.load(self.tmp / "rec" / f"{name}.npy"))
        self.assertEqual(res.mse.shape, (E,))
        self.assertEqual(res.info["trials"], B)

    def test_run_defaults_to_a_temporary_folder(self):
        res = re.run(self.trained.path, trials=2, steps=5, progress=False)
        try:
            self.assertTrue((res.path / "states.npy").is_file())
            self.assertEqual(res.states.shape, (E, 2, 5, N))
        finally:
            shutil.rmtree(res.path, ignore_errors=True)

    def test_eval(self):
        res = re.eval(self.trained.path, trials=8, progress=False)
        self.assertEqual(res.ood_mse.shape, (E,))
        self.assertEqual(list(res.table["network"]), list(range(E)))
        self.assertIn("sigma_ood", json.dumps(res.summary))


class Analyses(EngineTestCase):
    def test_compare_matrix_ids_and_summary(self):
        out = self.tmp / "cka"
        res = re.compare(self.trained.path, metric="cka", all=True, trials=8, out=out, progress=False)
        self.assertEqual(res.matrix.shape, (E, E))
        np.testing.assert_array_equal(res.matrix, np.load(out / "cka.npy"))
        np.testing.assert_array_equal(res.matrix, res.matrix.T)
        np.testing.assert_array_equal(np.diag(res.matrix), 0)
        self.assertEqual(list(res.ids), res.summary["ids"])
        self.assertAlmostEqual(res.mean, res.matrix[0, 1])
        self.assertEqual(res.summary["metric"], "cka")

    def test_compare_dsa_reads_all_scores(self):
        res = re.compare(self.trained.path, metric="dsa", all=True, trials=8, rank=4, delays=3,
                         out=self.tmp / "dsa", progress=False)
        self.assertEqual(res.matrix.shape, (E, E))
        self.assertEqual(set(res.extra), {"dsa_angular", "dsa_euclidean", "dsa_wasserstein"})
        np.testing.assert_array_equal(res.matrix, res.extra["dsa_angular"])

    def test_fixed_points_arrays(self):
        out = self.tmp / "fp"
        res = re.fixed_points(self.trained.path, out=out, seeds=16, rounds=0, eigenvectors="all", progress=False)
        self.assertEqual(res.summary, json.loads((out / "fixed_points.json").read_text()))
        self.assertEqual(len(res), E)
        for net in res.networks:
            sub = out / f"network_{net.network:03d}"
            P = net.points.shape[0]
            self.assertGreaterEqual(P, 1)
            self.assertEqual(net.points.shape, (P, N))
            self.assertEqual(net.stable.dtype, np.bool_)
            self.assertEqual(net.saddle_index.dtype, np.int32)
            self.assertEqual(net.eigenvalues.shape, (P, N, 2))
            self.assertEqual(net.eigenvectors.shape, (P, N, N, 2))
            self.assertEqual(net.jacobians.shape, (P, N, N))
            self.assertEqual(net.seed_q.shape, (16,))
            self.assertEqual(net.eigenvalues_complex.shape, (P, N))
            for name in ("points", "q", "stable", "saddle_index", "eigenvalues", "eigenvectors", "seed_status"):
                np.testing.assert_array_equal(getattr(net, name), np.load(sub / f"{name}.npy"))
            np.testing.assert_array_equal(net.stable, net.saddle_index == 0)
            self.assertEqual([p["stable"] for p in net.info["fixed_points"]], list(net.stable))

    def test_degeneracy(self):
        res = re.degeneracy(self.trained.path, all=True, trials=8, rank=4, delays=3, out=self.tmp / "deg",
                            progress=False)
        self.assertEqual(set(res.matrices), {"behavior", "dsa_angular", "pif"})
        for m in res.matrices.values():
            self.assertEqual(m.matrix.shape, (E, E))
        self.assertAlmostEqual(res.mean_dsa, res.matrices["dsa_angular"].matrix[0, 1])
        self.assertAlmostEqual(res.mean_pif, res.matrices["pif"].matrix[0, 1])


class OtherVerbs(unittest.TestCase):
    def test_closed_loop(self):
        with tempfile.TemporaryDirectory() as d:
            res = re.closed_loop(Path(d) / "cl", agents=2, hidden=8, steps=20, progress=False)
            self.assertEqual(len(res.summary), 2)
            self.assertIn("loss", res.metrics)
            self.assertEqual(res.metrics["loss"].dtype, np.float64)

    def test_study_plan_run_merge(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = Path(d) / "tiny.json"
            cfg.write_text(json.dumps({"name": "tiny", "seeds": 2, "tasks": [{"task": "flipflop"}],
                                       "factors": {"width": [8, 12]}, "training": {"max_epochs": 10},
                                       "analyses": {"pif": {}}, "bootstrap": 100}))
            v = re.study("validate", cfg, progress=False)
            self.assertTrue(any("2 condition(s)" in l for l in v.log), v.log)
            p = re.study("plan", cfg, out=Path(d) / "st", progress=False)
            self.assertIsNotNone(p.plan)
            r = re.study("run", Path(d) / "st", progress=False)
            self.assertIsNotNone(r.report)
            self.assertEqual(list(r.table("conditions")["width"]), [8, 12])
            self.assertEqual(len(r.report["conditions"]), 2)


class Example(unittest.TestCase):
    def test_degeneracy_heatmap_example_runs(self):
        import subprocess
        script = Path(__file__).resolve().parents[1] / "examples" / "degeneracy_heatmap.py"
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([sys.executable, str(script), "--out", str(Path(d) / "ex"), "--networks", "2",
                                "--hidden", "8", "--max-epochs", "20"], capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            self.assertIn("dsa: mean", p.stdout)
            try:
                import matplotlib  # noqa: F401
                self.assertTrue((Path(d) / "ex" / "dsa_heatmap_py.png").is_file(), p.stdout[-1000:])
            except ImportError:
                self.assertIn("matplotlib is not installed", p.stdout)


class Errors(unittest.TestCase):
    def test_engine_error_carries_the_engine_message(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(re.EngineError) as cm:
                re.train(Path(d) / "bad", task="nope", progress=False)
        e = cm.exception
        self.assertEqual(e.returncode, 2)
        self.assertTrue(e.message.startswith("Unknown task 'nope'"), e.message)
        self.assertIn("Unknown task 'nope'", e.stderr)
        self.assertIn("nope", str(e))

    def test_unknown_flag_is_an_engine_error(self):
        with self.assertRaises(re.EngineError) as cm:
            re.call("train", progress=False, not_a_flag=3)
        self.assertIn("--not-a-flag", cm.exception.message)

    def test_missing_engine_binary(self):
        old = os.environ.get("RNN_ENGINE")
        os.environ["RNN_ENGINE"] = "/nonexistent/engine"
        try:
            with self.assertRaises(re.EngineNotFound):
                re.find_engine()
        finally:
            if old is None:
                del os.environ["RNN_ENGINE"]
            else:
                os.environ["RNN_ENGINE"] = old

    def test_checkout_detection_prefers_the_built_binary(self):
        from rnn_engine import _engine
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / "Engine.sln").write_text("")
            (root / "src" / "Engine.Cli").mkdir(parents=True)
            (root / "python" / "rnn_engine").mkdir(parents=True)
            self.assertEqual(_engine._find_checkout(root / "python" / "rnn_engine"), root)
            self.assertIsNone(_engine._find_checkout(Path("/")))
            cmd = _engine._checkout_command(root)
            if shutil.which("dotnet"):
                self.assertEqual(cmd[1:], ["run", "--project", str(root / "src" / "Engine.Cli"), "-c", "Release", "--"])
            built = root / "src" / "Engine.Cli" / "bin" / "Release" / "net10.0" / "engine"
            built.parent.mkdir(parents=True)
            built.write_text("#!/bin/sh\n")
            built.chmod(0o755)
            self.assertEqual(_engine._checkout_command(root), [str(built)])

    def test_flags(self):
        self.assertEqual(re.flags(max_epochs=5, force=True, all=False, backend=None, input=[1, 0.5], from_="x"),
                         ["--max-epochs", "5", "--force", "--input", "1,0.5", "--from", "x"])
        self.assertEqual(re.flags(widths=np.array([32, 64])), ["--widths", "32,64"])


def random_model(rng, n=6, i=3, o=2):
    f = lambda *s: rng.uniform(-0.6, 0.6, size=s)
    return {"weight_ih_l0": f(n, i), "weight_hh_l0": f(n, n), "bias_ih_l0": f(n) * 0.1, "bias_hh_l0": f(n) * 0.1,
            "readout.weight": f(o, n), "readout.bias": f(o)}


class Import(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rnn_engine_import_"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check_engine_read(self, model, path, tensors, phi=np.tanh, dphi=lambda h: 1 - h ** 2, out="fp"):
        """fixed_points on the file runs, and its points and Jacobians follow from the weights written."""
        res = re.fixed_points(path, out=self.tmp / out, seeds=16, rounds=0, progress=False)
        self.assertNotEqual(res.summary.get("origin"), "checkpoint")
        self.assertEqual(len(res), 1)
        net = res[0]
        W = np.asarray(tensors["rnn.weight_hh_l0"], dtype=np.float64)
        b = np.asarray(tensors["rnn.bias_ih_l0"], dtype=np.float64) + np.asarray(tensors["rnn.bias_hh_l0"], dtype=np.float64)
        self.assertGreaterEqual(net.points.shape[0], 1)
        for h, J in zip(net.points, net.jacobians):
            np.testing.assert_allclose(phi(W @ h + b), h, atol=1e-6)
            np.testing.assert_allclose(J, dphi(h)[:, None] * W, atol=1e-6)

    def test_numpy_dict_round_trips_through_the_engine(self):
        model = random_model(np.random.default_rng(1))
        path = re.from_torch(model, path=self.tmp / "m.safetensors")
        tensors, meta = re.read_safetensors(path)
        self.assertEqual(set(tensors), {"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                                        "readout.weight", "readout.bias"})
        for k, v in model.items():
            name = k if k.startswith("readout.") else "rnn." + k
            np.testing.assert_array_equal(tensors[name], v)
            self.assertEqual(tensors[name].dtype, np.float64)
        self.check_engine_read(model, path, tensors)

    def test_numpy_dict_as_npz_and_separate_linear(self):
        model = random_model(np.random.default_rng(2))
        rnn = {k: v.astype(np.float32) for k, v in model.items() if not k.startswith("readout.")}
        lin = {"weight": model["readout.weight"], "bias": model["readout.bias"]}
        path = re.from_torch(rnn, lin, path=self.tmp / "m.npz")
        z = np.load(path)
        np.testing.assert_array_equal(z["rnn.weight_hh_l0"], rnn["weight_hh_l0"])
        np.testing.assert_array_equal(z["readout.weight"], lin["weight"])
        self.check_engine_read(model, path, dict(z))

    def test_default_path_is_a_temporary_safetensors(self):
        path = re.from_torch(random_model(np.random.default_rng(3)))
        try:
            self.assertEqual(path.suffix, ".safetensors")
            self.assertTrue(path.is_file())
        finally:
            path.unlink()

    def test_missing_weights_are_refused(self):
        with self.assertRaises(ValueError):
            re.from_torch({"weight_hh_l0": np.eye(3)}, path=self.tmp / "x.safetensors")

    def test_models_as_a_run_compare_and_reproduce_their_outputs(self):
        """Three numpy-dict models written as one run (template: a trained run of the same sizes) are compared, and
        the engine's outputs on its trials equal a numpy forward pass of each model."""
        like = re.train(self.tmp / "like", task="flipflop", networks=1, hidden=6, max_epochs=2, progress=False)
        rng = np.random.default_rng(4)
        models = [random_model(rng, n=6, i=3, o=3) for _ in range(3)]
        res = re.compare(models, metric="cka", like=like.path, trials=4, out=self.tmp / "cmp", progress=False)
        self.assertEqual(res.matrix.shape, (3, 3))
        self.assertEqual(list(res.ids), [0, 1, 2])
        run_dir = re.to_run(models, like.path, self.tmp / "models")
        rec = re.run(run_dir, self.tmp / "rec", trials=3, steps=8, progress=False)
        for k, m in enumerate(models):
            h = np.zeros(6)
            for t in range(8):
                x = rec.inputs[:, t, :].astype(np.float64)
                h = np.tanh(x @ m["weight_ih_l0"].T + h @ m["weight_hh_l0"].T + m["bias_ih_l0"] + m["bias_hh_l0"])
                np.testing.assert_allclose(rec.states[k, :, t, :], h, atol=1e-5)
                np.testing.assert_allclose(rec.outputs[k, :, t, :], h @ m["readout.weight"].T + m["readout.bias"], atol=1e-5)

    @unittest.skipUnless(HAVE_TORCH, "torch is not installed")
    def test_from_torch_round_trips_weights_exactly(self):
        import torch
        torch.manual_seed(0)
        rnn, lin = torch.nn.RNN(3, 8, batch_first=True), torch.nn.Linear(8, 2)
        path = re.from_torch(rnn, lin, path=self.tmp / "t.safetensors")
        tensors, meta = re.read_safetensors(path)
        self.assertEqual(meta.get("nonlinearity"), "tanh")
        for k, v in rnn.state_dict().items():
            np.testing.assert_array_equal(tensors["rnn." + k], v.numpy())
        for k, v in lin.state_dict().items():
            np.testing.assert_array_equal(tensors["readout." + k], v.numpy())
        self.check_engine_read(None, path, tensors)

    @unittest.skipUnless(HAVE_TORCH, "torch is not installed")
    def test_live_torch_models_compare_and_match_torch_outputs(self):
        import torch
        torch.manual_seed(2)
        models = [(torch.nn.RNN(3, 6, batch_first=True), torch.nn.Linear(6, 3)) for _ in range(2)]
        like = re.train(self.tmp / "like", task="flipflop", networks=1, hidden=6, max_epochs=2, progress=False)
        res = re.compare(models, metric="cka", like=like.path, trials=4, progress=False)
        self.assertEqual(res.matrix.shape, (2, 2))
        rec = re.run(re.to_run(models, like.path, self.tmp / "models"), trials=3, steps=8, progress=False)
        with torch.no_grad():
            for k, (rnn, lin) in enumerate(models):
                states, _ = rnn(torch.from_numpy(rec.inputs.astype(np.float32)))
                np.testing.assert_allclose(rec.states[k], states.numpy(), atol=1e-5)
                np.testing.assert_allclose(rec.outputs[k], lin(states).numpy(), atol=1e-5)

    @unittest.skipUnless(HAVE_TORCH, "torch is not installed")
    def test_from_torch_relu_passes_the_activation(self):
        import torch
        torch.manual_seed(1)
        rnn, lin = torch.nn.RNN(3, 8, nonlinearity="relu"), torch.nn.Linear(8, 2)
        with torch.no_grad():
            rnn.weight_hh_l0.mul_(0.5)  # a contraction, so that the search finds its fixed point
        path = re.from_torch(rnn, lin, path=self.tmp / "r.safetensors")
        tensors, meta = re.read_safetensors(path)
        self.assertEqual(meta.get("nonlinearity"), "relu")
        # the relu fixed-point equation holds only if fixed_points passed --activation relu
        self.check_engine_read(None, path, tensors, phi=lambda x: np.maximum(x, 0), dphi=lambda h: (h > 0) * 1.0, out="fpr")


if __name__ == "__main__":
    unittest.main()
