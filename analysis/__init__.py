"""Biomechanics from tracked skeletons: joint and segment angles over time (Sports2D's
conventions), which way a person faces, left/right limb swaps, repetitions, and the OpenSim
files (.trc, .mot) they travel in.

A pure library, like pose/ and tracking/: numpy arrays in, arrays and files out; no Flask,
Celery, job store or pose imports, no environment, logging or printing. The skeleton is a
parameter (``part_names``); coordinates are image pixels, x right, y down.
"""
from __future__ import annotations

from analysis.angles import (
    BY_NAME, DEFINITIONS, AngleDefinition, AngleNameError, AngleSeries, align_branches, angle_parts,
    available_angles, compute_angles, joint_range, parse_angle_option, resolve_angle_names, unavailable_angles,
    unwrap_degrees,
)
from analysis.calibration import height_in_pixels
from analysis.facing import FACING_NAMES, facing_directions, facing_states, mirror_signs
from analysis.opensim import write_mot, write_trc
from analysis.points import points_xy, torso_length
from analysis.swaps import LIMB_PAIRS, SwapCorrection, correct_limb_swaps, exchange, majority, runs

__all__ = [
    "AngleDefinition", "AngleNameError", "AngleSeries", "BY_NAME", "DEFINITIONS", "LIMB_PAIRS",
    "SwapCorrection", "align_branches", "angle_parts", "available_angles", "compute_angles",
    "FACING_NAMES", "correct_limb_swaps", "exchange", "facing_directions", "facing_states", "joint_range",
    "mirror_signs", "height_in_pixels", "majority", "parse_angle_option",
    "points_xy", "resolve_angle_names", "runs", "torso_length", "unavailable_angles", "unwrap_degrees", "write_mot",
    "write_trc",
]
