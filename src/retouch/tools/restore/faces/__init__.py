"""Faces: detection with landmarks, alignment to the FFHQ template, the restoration network, the paste back."""
