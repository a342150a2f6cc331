"""Old-photo repairs: scratches and dust (as a mask for the erase engine), noise, colour cast."""
