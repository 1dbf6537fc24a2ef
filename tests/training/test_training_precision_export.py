"""Mixed-precision steps through the shared accelerator, and export round trips, in-process."""


import pytest
import torch

from facezoo.training import Trainer, build_parser, parse_args


def _args(tmp_path, *extra):
    return parse_args(build_parser("t"), ["--output_dir", str(tmp_path), "--report_to", "none", "--seed", "0", *extra])


def _autocast_dtype(trainer):
    with trainer.accelerator.autocast():
        return torch.nn.functional.linear(torch.ones(1, 2), torch.ones(2, 2)).dtype


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_steps_reduce_a_toy_loss(tmp_path, fresh_accelerate_state, precision):
    trainer = Trainer(_args(tmp_path, "--mixed_precision", precision, "--max_train_steps", "30",
                            "--checkpointing_steps", "0", "--learning_rate", "0.1"), project_name="mp")
    expected = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    if _autocast_dtype(trainer) != expected:
        pytest.skip(f"{precision} autocast is not enabled by accelerate on {trainer.accelerator.device.type} "
                    f"(native_amp={trainer.accelerator.native_amp}): the run would be plain fp32")
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    y = x @ torch.randn(8, 1)
    model = torch.nn.Linear(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True)
    model, opt, loader = trainer.prepare(model=model, optimizer=opt, dataloader=loader)
    losses = []
    for xb, yb in trainer.batches(loader):
        with trainer.accelerator.autocast():
            pred = model(xb)
        loss = torch.nn.functional.mse_loss(pred.float(), yb)
        trainer.accelerator.backward(loss)
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    assert trainer.global_step == 30
    assert sum(losses[-5:]) / 5 < 0.2 * sum(losses[:5]) / 5


def test_export_loads_with_from_pretrained_and_matches_memory(tmp_path, fresh_accelerate_state, toy_models):
    trainer = Trainer(_args(tmp_path, "--max_train_steps", "1"), project_name="export")
    generator = toy_models.ToyGenerator(latent_dim=4, hidden_dim=16, image_size=8)
    pipe = toy_models.ToyGANPipeline(image_generator=generator)
    folder = trainer.export(pipe, folder=tmp_path / "export", info={"title": "t", "training_data": "none"},
                            metrics={"fid": 1.5})
    loaded = toy_models.ToyGANPipeline.from_pretrained(folder)
    expected = pipe(batch_size=3, generator=torch.Generator().manual_seed(1))
    got = loaded(batch_size=3, generator=torch.Generator().manual_seed(1))
    assert got.shape == (3, 3, 8, 8)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert loaded.image_generator.config.latent_dim == 4
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in folder.rglob("*"))
    card = (folder / "README.md").read_text()
    assert "fid" in card and "steps: 0" in card and "training data: none" in card


def test_push_to_hub_uses_create_repo_and_upload_folder(tmp_path, monkeypatch):
    from facezoo.training import push_folder_to_hub

    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, exist_ok, private):
            calls.append(("create_repo", repo_id, exist_ok))
            return f"https://huggingface.co/{repo_id}"

        def upload_folder(self, repo_id, folder_path, commit_message, ignore_patterns):
            calls.append(("upload_folder", repo_id, folder_path, tuple(ignore_patterns)))

    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    url = push_folder_to_hub(tmp_path, "me/toy", token="t")
    assert url.endswith("me/toy")
    assert calls[1] == ("create_repo", "me/toy", True)
    assert calls[2][:3] == ("upload_folder", "me/toy", str(tmp_path)) and "checkpoint-*" in calls[2][3]
