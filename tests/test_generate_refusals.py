"""Responsible use: the prompts refused (robust to case, punctuation, spacing, leetspeak and a few languages), the
innocent ones that merely look close, and the stricter list over a person found by the face detector."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.tools.generate.refusals import PromptRefused, check_prompt, refusal_reason

REFUSED = {
    "a nude woman on a beach": "nudity",
    "NAKED man": "nudity",
    "n.u.d.e portrait": "nudity",
    "a n u d e model": "nudity",
    "nuuuude": "nudity",
    "n@ked, 4k": "nudity",
    "Nüde": "nudity",
    "une femme nue": "nudity",
    "nackte Frau": "nudity",
    "mujer desnuda": "nudity",
    "undress her": "undressing",
    "Take off... no: undressing the girl": "undressing",
    "s3x scene": "sexual content",
    "p-o-r-n": "sexual content",
    "erotic photo": "sexual content",
    "faceswap with my boss": "face swapping",
    "swap the face of the man with Obama": "face swapping",
    "a deepfake of a singer": "face swapping",
    # documented: the list does not read sense; the word alone steers a model
    "a naked wall": "nudity",
}
ALLOWED = (
    "a bare brick wall in the sun",
    "Essex coastline at dawn",
    "analysis of a therapist's office, documentary photo",
    "Scunthorpe high street",
    "a strip of land between two lakes",
    "a 4k photo of 3 cats",
    "a sexton beetle on a leaf",
    "a woman in a red coat, portrait",
    "a man's face, studio lighting",
)


@pytest.mark.parametrize(("prompt", "reason"), REFUSED.items())
def test_refused_prompts(prompt: str, reason: str) -> None:
    assert refusal_reason(prompt) == reason
    with pytest.raises(PromptRefused) as caught:
        check_prompt(prompt)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"this prompt is refused: Retouch does not make {reason}")


@pytest.mark.parametrize("prompt", ALLOWED)
def test_allowed_prompts_that_look_close(prompt: str) -> None:
    check_prompt(prompt)


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [("a bikini", "a change to a person's body"), ("make her look younger", "a change to who a person is"),
     ("a man's face, studio lighting", "a change to who a person is"), ("lingerie", "a change to a person's body")],
)
def test_over_a_person_the_list_is_stricter(prompt: str, reason: str) -> None:
    check_prompt(prompt)
    with pytest.raises(PromptRefused, match="over a person"):
        check_prompt(prompt, person_in_region=True)
    assert refusal_reason(prompt, person_in_region=True) == reason
    check_prompt("a blue sky with clouds", person_in_region=True)


def test_a_person_is_found_inside_a_mask_over_their_face_and_not_elsewhere() -> None:
    from shared_data import KODAK, unavailable

    from retouch.io import load_image
    from retouch.tools.generate.people import person_in_region
    from retouch.tools.restore.faces.detect import detect_faces

    if not (KODAK / "kodim04.png").is_file():
        unavailable(f"needs {KODAK / 'kodim04.png'}")
    picture = load_image(KODAK / "kodim04.png")  # a portrait of a woman
    faces = detect_faces(picture.rgb_float())
    assert len(faces) == 1
    x, y, w, h = (int(v) for v in faces[0].box)
    over = np.zeros((picture.height, picture.width), dtype=bool)
    over[y + h // 2, x + w // 2] = True
    assert person_in_region(picture, over)
    above = np.zeros_like(over)
    above[: max(1, int(y - 0.6 * h)), :] = True  # rows above the face's grown box (the sky over her hat)
    assert not person_in_region(picture, above)
