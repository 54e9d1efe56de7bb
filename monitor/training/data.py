"""Loaders for the labelled public sets in `../shared/data/` and the project's own data.

Every set is declared once in `DATASETS`, with its language, task, licence as stated by its
publisher and its split: `val` where the set has a validation part, otherwise every row is `train`
and figures come from cross-validation. The files are read from where they lie; nothing here
copies them.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from monitor.errors import InputError

__all__ = ["DATASETS", "Dataset", "Example", "data_root", "load", "load_many", "own_root"]

STANCE_LABELS = ("favor", "against", "none")


@dataclass(frozen=True)
class Example:
    """One labelled text. `label` is 0/1 for toxicity, a STANCE_LABELS value for stance."""

    text: str
    lang: str
    task: str  # "toxicity" or "stance:<target>"
    label: int | str
    source: str  # the dataset's name
    split: str  # "train" or "val"
    group: str  # rows of one group never sit in different folds


@dataclass(frozen=True)
class Dataset:
    """A labelled set: where it lies, what it labels, and under what licence."""

    name: str
    lang: str
    tasks: tuple[str, ...]
    licence: str
    licence_stated: bool  # False: no licence given by the publisher (research use only)
    cite: str
    reader: Callable[[Path], Iterable[Example]]
    own: bool = False  # written by this project (datasets/), not a public set


def data_root() -> Path:
    """`MONITOR_LABELLED_DATA`, else `../shared/data` next to the checkout or the working directory."""
    env = os.environ.get("MONITOR_LABELLED_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "data"


def own_root() -> Path:
    """The project's own labelled data (`datasets/` of the checkout)."""
    return Path(__file__).resolve().parents[2] / "datasets"


def _need(path: Path) -> Path:
    if not path.is_file():
        raise InputError(f"{path} not found: put the labelled public sets in ../shared/data "
                         "or set MONITOR_LABELLED_DATA to their folder")
    return path


def _germeval_tsv(path: Path, name: str, lines: bool) -> Iterable[Example]:
    with _need(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2 or parts[1] not in ("OFFENSE", "OTHER"):
                raise InputError(f"{path}:{n}: expected text<TAB>OFFENSE|OTHER<TAB>fine")
            yield Example(parts[0], "de", "toxicity", int(parts[1] == "OFFENSE"), name, "train",
                          f"{name}:{n}")


def _germeval2018(root: Path) -> Iterable[Example]:
    return _germeval_tsv(root / "germeval2018/germeval2018.training.txt", "germeval2018", True)


def _germeval2019(root: Path) -> Iterable[Example]:
    return _germeval_tsv(root / "germeval2019/germeval2019GoldLabelsSubtask1_2.txt",
                         "germeval2019", True)


def _germeval2021(root: Path) -> Iterable[Example]:
    path = _need(root / "germeval2021/GermEval21_TrainData.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield Example(row["comment_text"], "de", "toxicity", int(row["Sub1_Toxic"]),
                          "germeval2021", "train", f"germeval2021:{row['comment_id']}")


def _olid(root: Path) -> Iterable[Example]:
    for split, stem in (("train", "train"), ("val", "val")):
        texts = _need(root / f"olid/{stem}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = _need(root / f"olid/{stem}_labels.txt").read_text(encoding="utf-8").split()
        if len(texts) != len(labels):
            raise InputError(f"{root / 'olid'}: {stem}_text.txt and {stem}_labels.txt differ "
                             f"in length ({len(texts)} vs {len(labels)})")
        for n, (text, label) in enumerate(zip(texts, labels)):
            yield Example(text, "en", "toxicity", int(label), "olid", split, f"olid:{stem}{n}")


def _davidson(root: Path) -> Iterable[Example]:
    path = _need(root / "davidson2017/labeled_data.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            # 0 hate, 1 offensive, 2 neither: both of the first two are toxic in our sense.
            yield Example(row["tweet"], "en", "toxicity", int(row["class"] != "2"), "davidson2017",
                          "train", f"davidson2017:{row['']}")


def _russe(root: Path) -> Iterable[Example]:
    path = _need(root / "russe2022/test_toxic_only.tsv")
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)):
            text = (row.get("toxic_comment") or "").strip()
            if text:
                yield Example(text, "ru", "toxicity", 1, "russe2022", "train", f"russe2022:{n}")


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _ruw(root: Path) -> Iterable[Example]:
    for split, stem in (("train", "train"), ("val", "val")):
        path = _need(root / f"ruw/raw_{stem}_Russia_Ukraine.csv")
        # The files mix UTF-8 with Windows-1252 bytes: decode each line by what it is.
        lines = [_decode_line(raw) for raw in path.read_bytes().splitlines(keepends=True)]
        for n, row in enumerate(csv.DictReader(lines)):
                group = f"ruw:{stem}{n}"
                for tcol, scol in (("Target 1", "Stance 1"), ("Target 2", "Stance 2")):
                    label = row[scol].strip().lower()
                    if label not in STANCE_LABELS:
                        raise InputError(f"{path}:{n + 2}: {scol} must be FAVOR, AGAINST or NONE")
                    yield Example(row["Tweet"], "en", f"stance:{row[tcol].strip().lower()}",
                                  label, "ruw", split, group)


def _germeval2018_stance(root: Path) -> Iterable[Example]:
    tweets = _need(root / "germeval2018/germeval2018.training.txt").read_text(
        encoding="utf-8").splitlines()
    path = _need(root / "germeval2018/stance_labels.tsv")
    rows = [line for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    for line in rows[1:]:
        idx, russia, nato = line.split("\t")
        text = tweets[int(idx)].split("\t")[0]
        for target, label in (("russia", russia), ("nato", nato)):
            if label:
                yield Example(text, "de", f"stance:{target}", label, "germeval2018-stance", "val",
                              f"germeval2018:{idx}")


def _own_toxicity(root: Path) -> Iterable[Example]:
    folder = root / "toxicity"
    for path in sorted(folder.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 2):
                if row.get("label") not in ("0", "1") or not row.get("text"):
                    raise InputError(f"{path}:{n}: expected pair<TAB>0|1<TAB>text")
                # `de.tsv`, `de-civil.tsv`: the language is the name up to the first '-'.
                yield Example(row["text"], path.stem.split("-")[0], "toxicity",
                              int(row["label"]), "own", "train", f"own:{path.stem}:{row['pair']}")


def _own_stance(root: Path) -> Iterable[Example]:
    for split, name in (("train", "train.jsonl"), ("val", "heldout.jsonl"),
                        ("val", "heldout_war.jsonl")):
        path = root / "stance" / name
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            for target, label in row["stance"].items():
                yield Example(row["text"], row["lang"], f"stance:{target}", label, "own-stance",
                              split, f"own-stance:{row.get('family', row['id'])}")


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("germeval2018", "de", ("toxicity",), "CC BY 4.0", True,
            "Wiegand, Siegel, Ruppenhofer: GermEval 2018 shared task, KONVENS 2018",
            _germeval2018),
    Dataset("germeval2019", "de", ("toxicity",), "none stated (research use)", False,
            "Struß et al.: GermEval 2019 task 2, KONVENS 2019", _germeval2019),
    Dataset("germeval2021", "de", ("toxicity",), "none stated (research use)", False,
            "Risch et al.: GermEval 2021 toxic comment classification", _germeval2021),
    Dataset("olid", "en", ("toxicity",), "OLID research licence; TweetEval split", False,
            "Zampieri et al.: OffensEval 2019 (OLID), via TweetEval", _olid),
    Dataset("davidson2017", "en", ("toxicity",), "MIT", True,
            "Davidson et al.: Automated hate speech detection, ICWSM 2017", _davidson),
    Dataset("russe2022", "ru", ("toxicity",), "none stated (research use)", False,
            "Dementieva et al.: RUSSE-2022 detoxification (toxic inputs)", _russe),
    Dataset("ruw", "en", ("stance:russia", "stance:ukraine"), "none stated (research use)", False,
            "multi-target/RUW: stance toward Russia and Ukraine in war tweets", _ruw),
    Dataset("germeval2018-stance", "de", ("stance:russia", "stance:nato"),
            "labels free to use; texts CC BY 4.0", True,
            "stance labels for GermEval 2018 tweets, made outside the project", _germeval2018_stance),
    Dataset("own", "de/en/ru", ("toxicity",), "MIT (this project)", True,
            "written by the project team (datasets/toxicity)", _own_toxicity, own=True),
    Dataset("own-stance", "de/en/ru", ("stance:nato", "stance:russia"), "MIT (this project)",
            True, "written by the project team (datasets/stance)", _own_stance, own=True),
)}


def load(name: str, root: Path | None = None) -> list[Example]:
    """Every row of one dataset."""
    try:
        dataset = DATASETS[name]
    except KeyError:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None
    base = own_root() if dataset.own else (root or data_root())
    return list(dataset.reader(base))


def load_many(names: Iterable[str], root: Path | None = None, *, task: str | None = None,
              stated_licence_only: bool = False) -> list[Example]:
    """Rows of several datasets, optionally of one task and only sets with a stated licence."""
    out: list[Example] = []
    for name in names:
        if stated_licence_only and not DATASETS[name].licence_stated:
            continue
        out.extend(e for e in load(name, root) if task is None or e.task == task)
    return out
