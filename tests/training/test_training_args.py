import pytest

from facezoo.training import build_parser, parse_args


def _parser():
    parser = build_parser("test")
    parser.add_argument("--r1_gamma", type=float, default=10.0, help="method flag")
    return parser


def _yaml(tmp_path, text):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return str(path)


def test_defaults_use_diffusers_flag_names():
    args = parse_args(_parser(), [])
    for name in ["output_dir", "mixed_precision", "report_to", "checkpointing_steps", "checkpoints_total_limit",
                 "resume_from_checkpoint", "gradient_accumulation_steps", "seed", "max_train_steps", "learning_rate",
                 "train_batch_size", "dataloader_num_workers", "logging_dir", "push_to_hub", "hub_model_id"]:
        assert hasattr(args, name), name
    assert args.mixed_precision == "no" and args.r1_gamma == 10.0


def test_yaml_sets_values_and_explicit_flags_override(tmp_path):
    cfg = _yaml(tmp_path, "learning_rate: 1.0e-3\nmax_train_steps: 7\nr1_gamma: 0.5\nmixed_precision: bf16\npush_to_hub: false\n")
    args = parse_args(_parser(), ["--config", cfg, "--max_train_steps", "9", "--r1_gamma=2"])
    assert args.learning_rate == pytest.approx(1e-3)  # from YAML
    assert args.max_train_steps == 9 and args.r1_gamma == 2.0  # command line wins
    assert args.mixed_precision == "bf16"
    # a flag left at its default on the command line does not undo the YAML value
    args = parse_args(_parser(), ["--config", cfg, "--seed", "0"])
    assert args.max_train_steps == 7 and args.seed == 0


def test_yaml_value_types_are_checked(tmp_path):
    args = parse_args(_parser(), ["--config", _yaml(tmp_path, "learning_rate: '3e-4'\n")])
    assert args.learning_rate == pytest.approx(3e-4)
    with pytest.raises(ValueError, match="learning_rate"):
        parse_args(_parser(), ["--config", _yaml(tmp_path, "learning_rate: fast\n")])
    with pytest.raises(ValueError, match="one of"):
        parse_args(_parser(), ["--config", _yaml(tmp_path, "mixed_precision: fp8\n")])
    with pytest.raises(ValueError, match="true or false"):
        parse_args(_parser(), ["--config", _yaml(tmp_path, "push_to_hub: 3\n")])


def test_unknown_yaml_key_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"unknown keys \['learnin_rate'\]"):
        parse_args(_parser(), ["--config", _yaml(tmp_path, "learnin_rate: 1\n")])
    with pytest.raises(ValueError, match="mapping"):
        parse_args(_parser(), ["--config", _yaml(tmp_path, "- 1\n- 2\n")])
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        parse_args(_parser(), ["--config", str(tmp_path / "nope.yaml")])


def test_push_to_hub_needs_a_repo_id():
    with pytest.raises(ValueError, match="hub_model_id"):
        parse_args(_parser(), ["--push_to_hub"])
    assert parse_args(_parser(), ["--push_to_hub", "--hub_model_id", "me/x"]).push_to_hub
