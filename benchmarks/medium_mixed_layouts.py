"""Miniatures of MLE-bench medium competitions of mixed media: tagged sound clips (freesound), answer spans in
Hindi and Tamil (chaii), gesture sequences in archives of per-recording files (multi-modal gesture), characters
located on page images (kuzushiji), organ masks on the slices of abdominal scans (uw-madison).

Each generator writes what the competition's `prepare.py` gives an agent (file names, folders, archives,
columns, id formats, the sample submission and its placeholder values) filled with generated data whose
signal is known, and returns the answers in the columns the competition's `grade.py` reads. Kept small
enough for `agent compete --time-budget 60` on two cores. Where the real files carry formats no library here
writes (MP4 video), the miniature leaves them out and says so.
"""

from __future__ import annotations

import itertools
import random
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_image, save_wav
from pipelines import rle


def _zip_flat(folder: Path, archive: Path) -> None:
    """Replace a folder by a zip archive holding its files at the top level, as `shutil.make_archive` (which
    the prepare.py scripts call) writes them; layout_kit.zip_away keeps the folder's name inside."""
    shutil.make_archive(str(archive.with_suffix("")), "zip", folder)
    shutil.rmtree(folder)


FREESOUND_LABELS = """Accelerating_and_revving_and_vroom Accordion Acoustic_guitar Applause Bark Bass_drum Bass_guitar
Bathtub_(filling_or_washing) Bicycle_bell Burping_and_eructation Bus Buzz Car_passing_by Cheering
Chewing_and_mastication Child_speech_and_kid_speaking Chink_and_clink Chirp_and_tweet Church_bell Clapping
Computer_keyboard Crackle Cricket Crowd Cupboard_open_or_close Cutlery_and_silverware Dishes_and_pots_and_pans
Drawer_open_or_close Drip Electric_guitar Fart Female_singing Female_speech_and_woman_speaking Fill_(with_liquid)
Finger_snapping Frying_(food) Gasp Glockenspiel Gong Gurgling Harmonica Hi-hat Hiss Keys_jangling Knock Male_singing
Male_speech_and_man_speaking Marimba_and_xylophone Mechanical_fan Meow Microwave_oven Motorcycle Printer Purr
Race_car_and_auto_racing Raindrop Run Scissors Screaming Shatter Sigh Sink_(filling_or_washing) Skateboard Slam
Sneeze Squeak Stream Strum Tap Tick-tock Toilet_flush Traffic_noise_and_roadway_noise Trickle_and_dribble
Walk_and_footsteps Water_tap_and_faucet Waves_and_surf Whispering Writing Yell Zipper_(clothing)""".split()


def sound_tags(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """freesound-audio-tagging-2019: wav clips in train_curated.zip (hand-labelled), train_noisy.zip (labels from
    web metadata, often wrong; clips mostly of one length, louder background) and test.zip, each archive holding
    its wavs at the top level; train_curated.csv and train_noisy.csv (fname `<8 hex>.wav`, labels: one or more
    of the 80 comma-separated, so quoted when several, e.g. "Walk_and_footsteps,Slam"), sorted by fname;
    sample_submission.csv has fname and one column per label in the vocabulary's order, all 0. The answers are
    the test clips' 0/1 columns; lwlrap. One curated clip is silent, as 1d44b0bd.wav is. Here 4 kHz and
    0.3-3 s clips (the real ones are 44.1 kHz, 0.3-30 s, the noisy ones mostly 15 s); a label sounds as two
    tones of its own, a few times at random moments."""
    rate, labels = 4000, FREESOUND_LABELS
    grid = 110 + 75 * np.arange(24)  # Hz
    pairs = [(a, b) for a in range(24) for b in range(a + 2, 24)]
    tones = [grid[list(pairs[k])] for k in rng.choice(len(pairs), len(labels), replace=False)]
    sizes = {"train_curated": 560, "train_noisy": 400, "test": 200}
    names = iter(f"{h}.wav" for h in hex_ids(rng, sum(sizes.values()), 8))

    def sound(heard: list[int], seconds: float, noise: float) -> np.ndarray:
        t = np.arange(int(seconds * rate)) / rate
        audio = rng.normal(0, noise, t.size)
        for k in heard:
            for _ in range(int(rng.integers(1, 4))):
                length = min(seconds, rng.uniform(0.15, 0.6))
                start = rng.uniform(0, seconds - length)
                inside = (t >= start) & (t < start + length)
                envelope = np.hanning(int(inside.sum())) * rng.uniform(0.15, 0.35)
                for f in tones[k] * rng.uniform(0.98, 1.02):
                    audio[inside] += envelope * np.sin(2 * np.pi * f * t[inside] + rng.uniform(0, 2 * np.pi))
        return audio / max(1.0, np.abs(audio).max())

    tables = {}
    for part, n in sizes.items():
        rows = []
        for i in range(n):
            first = i % len(labels) if part == "train_curated" else int(rng.integers(0, len(labels)))
            others = [k for k in range(len(labels)) if k != first]
            tagged = [first, *(int(k) for k in rng.choice(others, rng.choice(3, p=[0.82, 0.15, 0.03]), replace=False))]
            if part == "train_noisy":  # the web labels are often wrong
                heard = [k if rng.random() < 0.6 else int(rng.integers(0, len(labels))) for k in tagged]
                audio = sound(heard, 3.0 if rng.random() < 0.85 else rng.uniform(1, 3), rng.uniform(0.02, 0.15))
            else:
                audio = sound(tagged, float(np.clip(rng.lognormal(0.1, 0.6), 0.3, 3.0)), rng.uniform(0.005, 0.04))
            if part == "train_curated" and i == 0:
                audio[:] = 0  # the corrupted clip: no signal
            name = next(names)
            save_wav(folder / part / name, audio, rate)
            rows.append({"fname": name, "labels": ",".join(labels[k] for k in tagged), "tagged": tagged})
        tables[part] = pd.DataFrame(rows).sort_values("fname", ignore_index=True)
        _zip_flat(folder / part, folder / f"{part}.zip")
    for part in ("train_curated", "train_noisy"):
        tables[part][["fname", "labels"]].to_csv(folder / f"{part}.csv", index=False)
    test = tables["test"]
    answers = pd.DataFrame({"fname": test["fname"], **{name: [int(k in tagged) for tagged in test["tagged"]]
                                                        for k, name in enumerate(labels)}})
    answers.assign(**{name: 0 for name in labels}).to_csv(folder / "sample_submission.csv", index=False)
    return answers


CHAII = {  # per language: entities, (fact, question) per kind ({s} the subject, {a} the answer), filler sentences
    "hindi": {
        "capitals": [("भारत", "नई दिल्ली"), ("नेपाल", "काठमांडू"), ("जापान", "टोक्यो"), ("फ्रांस", "पेरिस"),
                     ("चीन", "बीजिंग"), ("मिस्र", "काहिरा"), ("रूस", "मास्को"), ("इटली", "रोम"),
                     ("ब्राज़ील", "ब्रासीलिया"), ("कनाडा", "ओटावा")],
        "people": ["राम शर्मा", "सीता वर्मा", "अर्जुन सिंह", "प्रिया गुप्ता", "विकास यादव", "अनीता जोशी", "रवि कुमार",
                   "कमला देवी", "सुरेश पटेल", "मीरा नायर"],
        "rivers": ["गंगा", "यमुना", "नर्मदा", "गोदावरी", "कावेरी", "कृष्णा", "सतलुज", "ब्रह्मपुत्र"],
        "books": ["गोदान", "कामायनी", "गीतांजलि", "मधुशाला", "निर्मला", "गबन"],
        "unit": "किलोमीटर",
        "kinds": {"capital": ("{a} {s} की राजधानी है।", "{s} की राजधानी क्या है?"),
                  "born": ("{s} का जन्म {a} में हुआ था।", "{s} का जन्म किस वर्ष हुआ था?"),
                  "river": ("{s} नदी की लंबाई लगभग {a} है।", "{s} नदी की लंबाई कितनी है?"),
                  "author": ("{s} के लेखक {a} थे।", "{s} के लेखक कौन थे?")},
        "filler": ["यह विषय इतिहास में बहुत महत्वपूर्ण माना जाता है।", "इसके बारे में कई पुस्तकें लिखी गई हैं।",
                   "बाद के वर्षों में इस क्षेत्र का विकास हुआ।", "यहाँ हर साल बहुत से लोग आते हैं।",
                   "इस पर अनेक विद्वानों ने शोध किया है।", "स्थानीय भाषा में इसे अलग नाम से जाना जाता है।"],
    },
    "tamil": {
        "capitals": [("இந்தியா", "புது தில்லி"), ("நேபாளம்", "காத்மாண்டு"), ("ஜப்பான்", "டோக்கியோ"),
                     ("பிரான்ஸ்", "பாரிஸ்"), ("சீனா", "பெய்ஜிங்"), ("எகிப்து", "கெய்ரோ"), ("ரஷ்யா", "மாஸ்கோ"),
                     ("இத்தாலி", "ரோம்"), ("பிரேசில்", "பிரசிலியா"), ("கனடா", "ஒட்டாவா")],
        "people": ["ராமன்", "சீதா லட்சுமி", "அர்ஜுன் குமார்", "பிரியா", "கண்ணன்", "மீனாட்சி", "ரவி சங்கர்", "கமலா",
                   "சுரேஷ்", "வள்ளி"],
        "rivers": ["காவிரி", "வைகை", "தாமிரபரணி", "பாலாறு", "கங்கை", "கிருஷ்ணா", "பவானி", "நொய்யல்"],
        "books": ["திருக்குறள்", "சிலப்பதிகாரம்", "மணிமேகலை", "பொன்னியின் செல்வன்", "கம்பராமாயணம்", "புறநானூறு"],
        "unit": "கிலோமீட்டர்",
        "kinds": {"capital": ("{s} நாட்டின் தலைநகரம் {a} ஆகும்.", "{s} நாட்டின் தலைநகரம் எது?"),
                  "born": ("{s} {a} ஆம் ஆண்டு பிறந்தார்.", "{s} எந்த ஆண்டு பிறந்தார்?"),
                  "river": ("{s} ஆற்றின் நீளம் சுமார் {a} ஆகும்.", "{s} ஆற்றின் நீளம் என்ன?"),
                  "author": ("{s} நூலை எழுதியவர் {a} ஆவார்.", "{s} நூலை எழுதியவர் யார்?")},
        "filler": ["இது வரலாற்றில் மிக முக்கியமானதாக கருதப்படுகிறது.", "இதைப் பற்றி பல நூல்கள் எழுதப்பட்டுள்ளன.",
                   "பிற்காலத்தில் இந்தப் பகுதி வளர்ச்சி அடைந்தது.", "ஒவ்வொரு ஆண்டும் பலர் இங்கு வருகின்றனர்.",
                   "இதைப் பற்றி பல அறிஞர்கள் ஆய்வு செய்துள்ளனர்.",
                   "உள்ளூர் மொழியில் இது வேறு பெயரால் அழைக்கப்படுகிறது."],
    },
}


def _article(rng: np.random.Generator, words: dict) -> tuple[str, str, str]:
    """A context of facts and filler sentences in shuffled order, a question about one of its facts, the answer.
    Facts of one kind differ in their subject, so the question's subject says which fact answers it."""
    facts = []
    for kind in rng.permutation(list(words["kinds"])):
        count = int(rng.integers(1, 4))
        if kind == "capital":
            facts += [(kind, *words["capitals"][i]) for i in rng.choice(len(words["capitals"]), count, replace=False)]
        else:
            pool = words[{"born": "people", "river": "rivers", "author": "books"}[kind]]
            for subject in rng.choice(pool, count, replace=False):
                if kind == "born":
                    answer = str(rng.integers(1800, 1995))
                elif kind == "river":
                    answer = f"{rng.integers(100, 3000)} {words['unit']}"
                else:
                    answer = str(rng.choice(words["people"]))
                facts.append((kind, str(subject), answer))
    sentences = [words["kinds"][k][0].format(s=s, a=a) for k, s, a in facts]
    sentences += list(rng.choice(words["filler"], int(rng.integers(3, 7))))
    kind, subject, answer = facts[int(rng.integers(0, len(facts)))]
    return " ".join(rng.permutation(sentences)), words["kinds"][kind][1].format(s=subject), answer


def indic_answers(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """chaii-hindi-and-tamil-question-answering: train.csv (id: 9 hex, context, question, answer_text,
    answer_start, language `hindi` or `tamil`, about two Hindi rows to one Tamil), 10% held out as test.csv
    without answer_text and answer_start (train_test_split, random_state 0, so both in shuffled order); the
    sample (id, PredictionString) says `dummy text`; the mean word-level Jaccard. As in chaii, answer_start is
    the first occurrence of answer_text in the context, which is not always the answering one, and a few train
    answers (one annotator) run a word too long. Contexts are a dozen generated sentences in Devanagari and
    Tamil script (the real ones are whole Wikipedia articles): facts of four kinds with distractors of the
    same kind, and filler."""
    from sklearn.model_selection import train_test_split

    n = 660
    language = rng.choice(["hindi", "tamil"], n, p=[0.67, 0.33])
    rows = [_article(rng, CHAII[lang]) for lang in language]
    frame = pd.DataFrame({"id": hex_ids(rng, n, 9), "context": [r[0] for r in rows], "question": [r[1] for r in rows],
                          "answer_text": [r[2] for r in rows],
                          "answer_start": [r[0].find(r[2]) for r in rows], "language": language})
    train, test = train_test_split(frame, test_size=0.1, random_state=0)
    train = train.copy()
    for i in np.flatnonzero(rng.random(len(train)) < 0.04):  # the annotator took the next word too
        context, start = train["context"].iat[i], train["answer_start"].iat[i]
        end = context.find(" ", start + len(train["answer_text"].iat[i]) + 1)
        longer = context[start:end if end > 0 else len(context)]
        train.iloc[i, train.columns.get_loc("answer_text")] = longer
        train.iloc[i, train.columns.get_loc("answer_start")] = context.find(longer)
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.drop(columns=["answer_start", "answer_text"]).to_csv(folder / "test.csv", index=False)
    answers = test[["id", "answer_text"]].rename(columns={"answer_text": "PredictionString"})
    answers.assign(PredictionString="dummy text").to_csv(folder / "sample_submission.csv", index=False)
    return answers


GESTURES = ("vattene vieniqui perfetto furbo cheduepalle chevuoi daccordo seipazzo combinato freganiente ok "
            "cosatifarei basta prendere noncenepiu fame tantotempo buonissimo messidaccordo sonostufo").split()
JOINTS = ("HipCenter Spine ShoulderCenter Head ShoulderLeft ElbowLeft WristLeft HandLeft ShoulderRight ElbowRight "
          "WristRight HandRight HipLeft KneeLeft AnkleLeft FootLeft HipRight KneeRight AnkleRight FootRight").split()
POSE = np.array([[0, 0, 0], [0, 100, 0], [0, 450, 0], [0, 600, 0], [-180, 400, 0], [-220, 150, 0], [-240, -80, -20],
                 [-245, -150, -30], [180, 400, 0], [220, 150, 0], [240, -80, -20], [245, -150, -30], [-90, -50, 0],
                 [-100, -450, 0], [-100, -850, 0], [-100, -900, -70], [90, -50, 0], [100, -450, 0], [100, -850, 0],
                 [100, -900, -70]], dtype=float)  # a person standing at rest, mm, x to the right, y up, z away
MOVES = list(itertools.product([("Right",), ("Left",), ("Left", "Right")], ["line", "circle"], range(4)))


def _motion(move: tuple, frames: int) -> np.ndarray:
    """How far each joint moves (frames, 20, 3) for one gesture: the hands come up, then go out and back or draw
    a circle in one of four directions."""
    hands, shape, direction = move
    t = np.linspace(0, 1, frames)
    angle = direction * np.pi / 2 + np.pi / 4
    if shape == "line":
        dx, dy = 200 * np.sin(np.pi * t) * np.cos(angle), 200 * np.sin(np.pi * t) * np.sin(angle)
    else:
        turn = 2 * np.pi * t + angle
        dx, dy = 120 * (np.cos(turn) - np.cos(angle)), 120 * (np.sin(turn) - np.sin(angle))
    shift = np.stack([dx, dy + 350 * np.sin(np.pi * t), -150 * np.sin(np.pi * t)], axis=1)
    out = np.zeros((frames, len(JOINTS), 3))
    for side in hands:
        mirrored = shift * ([-1, 1, 1] if side == "Left" else [1, 1, 1])
        for joint, weight in (("Elbow", 0.4), ("Wrist", 0.9), ("Hand", 1.0)):
            out[:, JOINTS.index(joint + side)] += weight * mirrored
    return out


def _recording(rng: np.random.Generator, moves: list[tuple], sequence: list[int], labelled: bool,
               rate: int) -> tuple[dict, np.ndarray]:
    """The `Video` structure of `<Sample>_data.mat` and the audio of one performance: idle, then each gesture
    (now and then preceded by one outside the vocabulary), its word said as a tone of its own meanwhile."""
    fps, scale = 20, rng.uniform(0.9, 1.1)
    body = POSE * scale + [rng.uniform(-200, 200), 0, rng.uniform(1800, 2400)]
    poses, labels, words = [np.zeros((int(rng.integers(8, 16)), len(JOINTS), 3))], [], []
    pitch = rng.uniform(0.97, 1.03)
    for g in sequence:
        if rng.random() < 0.15:  # a gesture outside the vocabulary: no label, no word
            poses += [_motion(moves[int(rng.integers(20, len(moves)))], int(rng.integers(12, 20))) * scale,
                      np.zeros((int(rng.integers(3, 7)), len(JOINTS), 3))]
        begin, length = sum(len(p) for p in poses), int(rng.integers(12, 20))
        poses += [_motion(moves[g], length) * scale, np.zeros((int(rng.integers(4, 10)), len(JOINTS), 3))]
        labels.append((GESTURES[g], float(begin + 1), float(begin + length)))
        words.append((begin + int(rng.integers(0, 5)), (150 + 35 * g) * pitch))
    poses.append(np.zeros((int(rng.integers(8, 16)), len(JOINTS), 3)))
    world = body + np.concatenate(poses) + rng.normal(0, 6, (sum(len(p) for p in poses), len(JOINTS), 3))
    n = len(world)
    t = np.arange(n * rate // fps) / rate
    audio = rng.normal(0, rng.uniform(0.01, 0.05), t.size)
    for start, f in words:
        inside = (t >= start / fps) & (t < start / fps + rng.uniform(0.25, 0.45))
        audio[inside] += rng.uniform(0.2, 0.4) * np.hanning(int(inside.sum())) * np.sin(2 * np.pi * f * t[inside])
    pixel = np.stack([320 + 525 * world[..., 0] / world[..., 2], 240 - 525 * world[..., 1] / world[..., 2]], -1)
    rotation = np.array([1.0, 0, 0, 0]) + rng.normal(0, 0.02, (n, len(JOINTS), 4))
    rotation /= np.linalg.norm(rotation, axis=-1, keepdims=True)
    skeleton_type = [(field, object) for field in ("JointType", "WorldPosition", "WorldRotation", "PixelPosition")]
    frames = np.empty((1, n), dtype=[("Skeleton", object)])
    joint_cells = np.array(JOINTS, dtype=object).reshape(-1, 1)
    for i in range(n):
        skeleton = np.empty((1, 1), dtype=skeleton_type)
        skeleton[0, 0]["JointType"], skeleton[0, 0]["WorldPosition"] = joint_cells, world[i].round(1)
        skeleton[0, 0]["WorldRotation"], skeleton[0, 0]["PixelPosition"] = rotation[i].round(4), pixel[i].round()
        frames[0, i]["Skeleton"] = skeleton
    kept = labels if labelled else []
    label_array = np.empty((1, len(kept)), dtype=[("Name", object), ("Begin", object), ("End", object)])
    for i, (name, begin, end) in enumerate(kept):
        label_array[0, i]["Name"], label_array[0, i]["Begin"], label_array[0, i]["End"] = name, begin, end
    return {"NumFrames": float(n), "FrameRate": float(fps), "MaxDepth": 4000.0, "Frames": frames,
            "Labels": label_array}, audio


def gestures(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """multi-modal-gesture-recognition: training1-3.tar.gz, validation1-3.tar.gz and test.tar.gz (the old
    training4, copied unchanged, so its recordings still carry their labels) each hold `Sample<5 digits>.zip`
    archives at the top level, one per recording, holding `Sample00001_audio.wav` and `Sample00001_data.mat` (a
    Matlab struct `Video`: NumFrames, FrameRate, MaxDepth, Frames (per frame a Skeleton of 20 joints: JointType,
    WorldPosition, WorldRotation, PixelPosition) and Labels (Name, Begin, End per gesture; empty for
    validation)); training.csv (Id: the sample's last 4 digits, `0001`; Sequence: the gestures' numbers 1-20
    in order, space-separated) for training1-3, test.csv (Id); the sample is randomPredictions.csv, a
    shuffling of 1-20 per test Id from random.seed(0), as prepare.py draws it; sample_code_mmrgc.zip beside.
    Levenshtein distance over gesture numbers, summed, over the true gestures' count. The Kinect videos
    (`_color.mp4`, `_depth.mp4`, `_user.mp4`) are left out (nothing here writes MP4), as are the 2012
    challenge's devel01-40.7z and valid_all_files_combined.7z (folders of videos). Here the audio is 2 kHz, a
    recording holds 6-10 of the 20 gestures (the real ones about 20, over a minute); each gesture is a hand
    path of its own and its word a tone of its own."""
    import scipy.io

    rate = 2000
    moves = [MOVES[i] for i in rng.permutation(len(MOVES))]  # the first 20 are the vocabulary's
    batches = {"training1": range(1, 17), "training2": range(17, 33), "training3": range(33, 49),
               "test": range(49, 65), "validation1": range(65, 71), "validation2": range(71, 77),
               "validation3": range(77, 83)}
    sequences = {}
    for batch, numbers in batches.items():
        for number in numbers:
            sample = folder / batch / f"Sample{number:05d}"
            sequence = [int(g) for g in rng.choice(len(GESTURES), int(rng.integers(6, 11)), replace=False)]
            video, audio = _recording(rng, moves, sequence, not batch.startswith("validation"), rate)
            save_wav(sample / f"{sample.name}_audio.wav", audio, rate)
            scipy.io.savemat(sample / f"{sample.name}_data.mat", {"Video": video}, do_compression=True)
            _zip_flat(sample, sample.with_suffix(".zip"))
            if not batch.startswith("validation"):
                sequences[f"{number:04d}"] = " ".join(str(g + 1) for g in sequence)
        with tarfile.open(folder / f"{batch}.tar.gz", "w:gz") as tar:
            for item in sorted((folder / batch).iterdir()):
                tar.add(item, arcname=item.name)
        shutil.rmtree(folder / batch)
    with zipfile.ZipFile(folder / "sample_code_mmrgc.zip", "w") as code:
        code.writestr("sample_code_mmrgc/README.txt", "Matlab scripts to read the ChaLearn 2013 gesture samples.\n")
        code.writestr("sample_code_mmrgc/GetSampleLabels.m", "function labels = GetSampleLabels(sample)\n"
                      "    data = load([sample '_data.mat']);\n    labels = data.Video.Labels;\nend\n")
    test_ids = [f"{number:04d}" for number in batches["test"]]
    frame = pd.DataFrame({"Id": list(sequences), "Sequence": list(sequences.values())})
    frame[~frame["Id"].isin(test_ids)].to_csv(folder / "training.csv", index=False)
    pd.DataFrame({"Id": test_ids}).to_csv(folder / "test.csv", index=False)
    draw = random.Random(0)
    shuffled = [" ".join(str(x) for x in draw.sample(range(1, 21), 20)) for _ in test_ids]
    pd.DataFrame({"Id": test_ids, "Sequence": shuffled}).to_csv(folder / "randomPredictions.csv", index=False)
    return frame[frame["Id"].isin(test_ids)].reset_index(drop=True)


KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめも"
BOOKS = ["100241706", "100249371", "200003076", "200014740", "200021660", "umgy", "hnsd", "brsk"]


def _glyph(pattern: np.ndarray, height: int, width: int) -> np.ndarray:
    """A glyph's pattern stretched to height x width (nearest neighbour)."""
    rows, columns = np.arange(height) * pattern.shape[0] // height, np.arange(width) * pattern.shape[1] // width
    return pattern[np.ix_(rows, columns)]


def _scroll_page(rng: np.random.Generator, patterns: list[np.ndarray], weights: np.ndarray, codes: list[str],
                 height: int, width: int, illustration: bool) -> tuple[np.ndarray, str | None]:
    """A page and its labels: columns of characters written top to bottom, right to left; small unlabelled
    annotation characters between some columns; now and then faint mirrored characters showing through from
    the back. An illustration page has drawing only and no labels."""
    ink = np.zeros((height, width))
    labels: list[str] = []
    if illustration:
        yy, xx = np.mgrid[:height, :width]
        for _ in range(int(rng.integers(3, 8))):
            cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(8, 40)
            ink[np.abs(np.hypot(yy - cy, xx - cx) - r) < 1.2] = rng.uniform(0.5, 0.9)
    x = width - 28
    while x > 6 and not illustration:
        y = 10 + int(rng.integers(0, 4))
        while rng.random() > 0.03:
            w, h = int(rng.integers(11, 17)), int(rng.integers(11, 17))
            if y + h > height - 10:
                break
            k = int(rng.choice(len(codes), p=weights))
            left = x + int(rng.integers(0, 17 - w))
            ink[y:y + h, left:left + w] = np.maximum(ink[y:y + h, left:left + w],
                                                     _glyph(patterns[k], h, w) * rng.uniform(0.7, 1.0))
            labels.append(f"{codes[k]} {left} {y} {w} {h}")
            y += h + int(rng.integers(2, 6))
        if rng.random() < 0.25 and x > 14:  # rubi: annotation characters, not to be labelled
            for top in rng.choice(np.arange(10, height - 20, 8), int(rng.integers(1, 4)), replace=False):
                ink[top:top + 6, x - 7:x - 1] = _glyph(patterns[int(rng.integers(0, len(codes)))], 6, 6) * 0.8
        x -= 24
    if rng.random() < 0.3:  # seen through the thin paper
        for _ in range(int(rng.integers(3, 12))):
            top, left = int(rng.integers(0, height - 16)), int(rng.integers(0, width - 16))
            mirrored = _glyph(patterns[int(rng.integers(0, len(codes)))], 14, 14)[:, ::-1]
            ink[top:top + 14, left:left + 14] += 0.15 * mirrored
    paper = np.array([235, 222, 190]) * rng.uniform(0.85, 1.0) + rng.normal(0, 6, (height, width, 3))
    order = rng.permutation(len(labels))
    return paper * (1 - 0.85 * np.clip(ink, 0, 1)[..., None]), " ".join(labels[i] for i in order) or None


def kuzushiji(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """kuzushiji-recognition: page photos (`<image_id>.jpg`, ids such as `100241706_00004_2` or `umgy001-010`)
    in train_images.zip and test_images.zip, at the archives' top level; train.csv (image_id, labels:
    `<Unicode> <X> <Y> <Width> <Height>` repeated, X and Y the box's top left, in pixels; empty for pages that
    are only illustration); unicode_translation.csv (Unicode, char); 10% of the pages held out
    (train_test_split, random_state 0). The sample (image_id, labels) says `U+003F 1 1 U+FF2F 2 2` for every
    page; the answers hold the boxes and a prediction `<Unicode> <X> <Y>` scores when its point is strictly
    inside a true box of its character (F1 over all pages). Characters between the columns (annotations) and
    showing through from the back are not labelled, as on the real pages. Here 35 kana of skewed frequency,
    each a fixed 7x7 pattern, on pages about 270 x 200 pixels (the real ones are scans of some 3000 x 2000
    with over 4000 characters)."""
    from sklearn.model_selection import train_test_split

    codes = [f"U+{ord(c):04X}" for c in KANA]
    patterns: list[np.ndarray] = []
    while len(patterns) < len(codes):
        pattern = (rng.random((7, 7)) < 0.45).astype(float)
        if not any((pattern == p).all() for p in patterns):
            patterns.append(pattern)
    weights = 1 / np.arange(1, len(codes) + 1) ** 0.9
    weights /= weights.sum()
    ids = []
    for book in BOOKS:
        first = int(rng.integers(1, 40))
        for page in range(first, first + 25):
            volume = 1 + page // 30
            ids.append(f"{book}_{page:05d}_{1 + page % 2}" if book.isdigit() else f"{book}{volume:03d}-{page:03d}")
    pages = {}
    for image_id in ids:
        height, width = int(rng.integers(250, 291)), int(rng.integers(180, 221))
        pages[image_id] = _scroll_page(rng, patterns, weights, codes, height, width, rng.random() < 0.06)
    frame = pd.DataFrame({"image_id": ids, "labels": [pages[i][1] for i in ids]})
    train, test = train_test_split(frame, test_size=0.1, random_state=0)
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    for part, table in (("train", train), ("test", test)):
        for image_id in table["image_id"]:
            save_image(folder / part / f"{image_id}.jpg", pages[image_id][0], quality=90)
        _zip_flat(folder / part, folder / f"{part}_images.zip")
    translation = sorted(set(KANA) | set("ゆよらりるれろわをん一二三人日月年") | {"?", "Ｏ"})
    pd.DataFrame({"Unicode": [f"U+{ord(c):04X}" for c in translation], "char": translation}).to_csv(
        folder / "unicode_translation.csv", index=False)
    test.assign(labels="U+003F 1 1 U+FF2F 2 2").to_csv(folder / "sample_submission.csv", index=False)
    return test


ORGANS = ("large_bowel", "small_bowel", "stomach")


def _save_png16(path: Path, pixels: np.ndarray) -> None:
    """A 16-bit greyscale PNG, as MRI slices are stored (layout_kit.save_image writes 8-bit)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(pixels, 0, 65535).astype(np.uint16)).save(path)


def _abdomen(rng: np.random.Generator, anatomy: dict, depth: float, height: int, width: int,
             shift: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One axial slice: the body's outline, the organs where the slice cuts them (`depth` in slices), and each
    organ's mask. The large bowel is a ring round the belly, the small bowel a cluster of loops in the middle,
    the stomach a bright sac in the upper left of the patient (the image's right)."""
    yy, xx = np.mgrid[:height, :width] - shift[:, None, None]
    image = np.where(((yy - height / 2) / (0.46 * height)) ** 2 + ((xx - width / 2) / (0.47 * width)) ** 2 < 1,
                     2500 + rng.normal(0, 300, (height, width)), rng.normal(40, 20, (height, width)))
    masks = {}
    for organ in ORGANS:
        mask = np.zeros((height, width), dtype=bool)
        for (cz, cy, cx), (rz, ry, rx) in anatomy[organ]:
            cut = 1 - ((depth - cz) / rz) ** 2
            if cut <= 0:
                continue
            inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
            mask |= (inside < cut) & ((inside > 0.45 * cut) if organ == "large_bowel" else True)
        masks[organ] = mask
        brightness = {"large_bowel": 5200, "small_bowel": 6800, "stomach": 8500}[organ]
        image[mask] = brightness + rng.normal(0, 500, mask.sum())
    return image * rng.uniform(0.9, 1.1), masks


def gi_tract(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """uw-madison-gi-tract-image-segmentation: scans as 16-bit PNG slices
    `train/<case>/<case>_<day>/scans/slice_<4 digits>_<width>_<height>_<spacing>_<spacing>.png` (case123,
    day20); train.csv (id `<case>_<day>_slice_<4 digits>`, class: large_bowel, small_bowel, stomach, three rows
    per slice in that order, segmentation: RLE numbered row by row, 1-based start and length pairs, empty where
    the organ is absent). prepare.py holds out 10% of the cases (train_test_split of the cases, random_state
    42) and every day after a train case's fourth, moving their folders to `test/`; test.csv (id, class); the
    sample (id, class, predicted) says `1 1 5 2` on every row; the answers add image_width and image_height,
    read from the file names and written as floats (`40.0`). 0.4 x Dice + 0.6 x (1 - 3-D Hausdorff) per
    case-day. Here 14 cases of 1-3 days (one of 5), 18 slices of 40 x 40 (one case 44 wide, 36 high; the real
    scans are 144 slices of 266 x 266 up to 360 x 310)."""
    from sklearn.model_selection import train_test_split

    n_slices, rows, sizes = 18, [], {}
    for k, number in enumerate(rng.choice(np.arange(2, 157), 14, replace=False)):
        case = f"case{number}"
        height, width = (36, 44) if k == 5 else (40, 40)
        sizes[case], spacing = (width, height), "1.63" if k % 4 == 3 else "1.50"
        size = np.array([height, width])
        anatomy = {  # per organ, its parts: (centre slice, row, column), (radii in slices, rows, columns)
            "large_bowel": [((rng.normal(6, 1), *rng.normal([0.55, 0.5], 0.03) * size), (6, *[0.3, 0.33] * size))],
            "small_bowel": [((rng.normal(7, 1.5), *rng.uniform([0.5, 0.38], [0.7, 0.62]) * size), (4, *0.08 * size))
                            for _ in range(int(rng.integers(3, 6)))],
            "stomach": [((rng.normal(13, 1), *rng.normal([0.33, 0.64], 0.03) * size), (5, *[0.15, 0.14] * size))]}
        for day in np.sort(rng.choice(41, 5 if k == 2 else int(rng.integers(1, 4)), replace=False)):
            shift = rng.normal(0, 1.0, 2)
            for s in range(1, n_slices + 1):
                image, masks = _abdomen(rng, anatomy, s, height, width, shift)
                _save_png16(folder / "train" / case / f"{case}_day{day}" / "scans" /
                            f"slice_{s:04d}_{width}_{height}_{spacing}_{spacing}.png", image)
                rows += [{"id": f"{case}_day{day}_slice_{s:04d}", "class": organ,
                          "segmentation": rle.encode(masks[organ], "C")} for organ in ORGANS]
    frame = pd.DataFrame(rows)
    case, day = frame["id"].str.split("_").str[0], frame["id"].str.split("_").str[1]
    train_cases, test_cases = train_test_split(case.unique(), test_size=0.1, random_state=42)
    is_test = case.isin(test_cases)
    for name in train_cases:
        days = sorted(set(day[case == name]), key=lambda d: int(d[3:]))
        is_test |= (case == name) & day.isin(days[4:])
    for name, scan in sorted(set(zip(case[is_test], day[is_test]))):
        (folder / "test" / name).mkdir(parents=True, exist_ok=True)
        shutil.move(folder / "train" / name / f"{name}_{scan}", folder / "test" / name / f"{name}_{scan}")
    for emptied in [p for p in (folder / "train").iterdir() if not any(p.iterdir())]:
        emptied.rmdir()
    frame[~is_test].to_csv(folder / "train.csv", index=False)
    test = frame[is_test].rename(columns={"segmentation": "predicted"})
    test[["id", "class"]].to_csv(folder / "test.csv", index=False)
    test.assign(predicted="1 1 5 2").to_csv(folder / "sample_submission.csv", index=False)
    return test.assign(image_width=[float(sizes[c][0]) for c in case[is_test]],
                       image_height=[float(sizes[c][1]) for c in case[is_test]])


LAYOUTS = {
    "freesound-audio-tagging-2019": ("zipped wavs; comma-separated label sets; 80 columns", "lwlrap", sound_tags),
    "chaii-hindi-and-tamil-question-answering": ("Hindi/Tamil spans; answer_start beside answer_text",
                                                 "jaccard_word", indic_answers),
    "multi-modal-gesture-recognition": ("tar.gz of zips of wav + .mat; gesture sequences; randomPredictions.csv",
                                        "levenshtein_per_token", gestures),
    "kuzushiji-recognition": ("zipped pages; `char x y w h` boxes, `char x y` points", "f1_points_in_boxes",
                              kuzushiji),
    "uw-madison-gi-tract-image-segmentation": ("case/day/scans 16-bit pngs; row-major RLE per organ",
                                               "dice_hausdorff", gi_tract),
}
