"""Miniatures of the other MLE-bench high competitions: phones' raw GNSS measurements, one folder per drive and
phone, to be turned into positions once a second (smartphone-decimeter-2022), player-pair and player-ground
contacts from 10 Hz tracking and helmet boxes (nfl-player-contact-detection), contrail masks on stacks of
infrared satellite bands (google-research-identify-contrails-reduce-global-warming), ink on stacks of X-ray
slices of papyrus fragments (vesuvius-challenge-ink-detection) and the InChI strings of drawn molecules
(bms-molecular-translation).

Each generator writes what the competition's `prepare.py` gives an agent (file names, nested folders, file
formats, columns, id formats, the sample submission and its placeholder values) filled with generated data
whose signal is known, and returns the answers as prepare.py writes them, in the columns the competition's
`grade.py` reads. Kept small enough for `agent compete --time-budget 60` on two cores: drives of two minutes
where the real ones last an hour, plays of 14 players over 3 s, 64 x 64 band stacks where the real ones are
256 x 256, fragments of 10 slices a few hundred pixels across where the real ones hold 65 slices of ten
thousand, a few hundred molecule drawings where the real set holds 2.4 million. Where the real files carry
formats no library here writes (MP4 video, RINEX), the miniature leaves them out and says so.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd

from layout_kit import hex_ids, save_image
from pipelines import rle


def _smooth(rng: np.random.Generator, shape: tuple[int, int], size: float) -> np.ndarray:
    """Zero-mean, unit-variance noise whose blobs are about `size` pixels across (a Gaussian low-pass)."""
    fy, fx = np.fft.fftfreq(shape[0])[:, None], np.fft.rfftfreq(shape[1])[None, :]
    spectrum = np.fft.rfft2(rng.normal(size=shape)) * np.exp(-2 * (np.pi * size / 2) ** 2 * (fx ** 2 + fy ** 2))
    field = np.fft.irfft2(spectrum, s=shape)
    return (field - field.mean()) / field.std()


# --- smartphone-decimeter-2022 --------------------------------------------------------------------------

WGS84_A, WGS84_E2 = 6378137.0, 6.69437999014e-3
LIGHT = 299792458.0  # m/s
GPS_EPOCH_MS, LEAP_MS = 315964800000, 18000  # 1980-01-06 in Unix milliseconds; GPS time leads UTC by 18 s
GNSS_COLUMNS = """MessageType utcTimeMillis TimeNanos LeapSecond FullBiasNanos BiasNanos BiasUncertaintyNanos
DriftNanosPerSecond DriftUncertaintyNanosPerSecond HardwareClockDiscontinuityCount Svid TimeOffsetNanos State
ReceivedSvTimeNanos ReceivedSvTimeUncertaintyNanos Cn0DbHz PseudorangeRateMetersPerSecond
PseudorangeRateUncertaintyMetersPerSecond AccumulatedDeltaRangeState AccumulatedDeltaRangeMeters
AccumulatedDeltaRangeUncertaintyMeters CarrierFrequencyHz MultipathIndicator ConstellationType CodeType
ChipsetElapsedRealtimeNanos ArrivalTimeNanosSinceGpsEpoch RawPseudorangeMeters RawPseudorangeUncertaintyMeters
SignalType ReceivedSvTimeNanosSinceGpsEpoch SvPositionXEcefMeters SvPositionYEcefMeters SvPositionZEcefMeters
SvElevationDegrees SvAzimuthDegrees SvVelocityXEcefMetersPerSecond SvVelocityYEcefMetersPerSecond
SvVelocityZEcefMetersPerSecond SvClockBiasMeters SvClockDriftMetersPerSecond IsrbMeters IonosphericDelayMeters
TroposphericDelayMeters WlsPositionXEcefMeters WlsPositionYEcefMeters WlsPositionZEcefMeters""".split()
SIGNALS = {  # signal type: ConstellationType, carrier Hz, State when tracked, CodeType, orbit radius (m), svids
    "GPS_L1": (1, 1575420030.0, 16397, "C", 26_560e3, 32), "GLO_G1": (3, 1602000000.0, 32995, "C", 25_510e3, 24),
    "BDS_B1I": (5, 1561097980.0, 81967, "I", 27_910e3, 37), "GAL_E1": (6, 1575420030.0, 85026, "C", 29_600e3, 36)}
CITIES = {"MTV": (37.40, -122.08, -20.0), "SJC": (37.33, -121.89, 5.0), "SVL": (37.37, -122.03, -15.0),
          "RWC": (37.49, -122.22, -25.0), "LAX": (34.05, -118.25, 60.0)}  # latitude, longitude, ellipsoid height
PHONES = {2020: ["GooglePixel4", "GooglePixel4XL", "SamsungGalaxyS20Ultra", "XiaomiMi8"],
          2021: ["GooglePixel4", "GooglePixel5", "SamsungGalaxyS20Ultra", "XiaomiMi8", "GooglePixel6Pro"],
          2022: ["GooglePixel5", "GooglePixel6Pro", "SamsungGalaxyS20Ultra", "XiaomiMi8"]}
GNSS_METADATA = {
    "raw_state_bit_map.json": {str(k): name for k, name in enumerate(
        "STATE_CODE_LOCK STATE_BIT_SYNC STATE_SUBFRAME_SYNC STATE_TOW_DECODED STATE_MSEC_AMBIGUOUS STATE_SYMBOL_SYNC "
        "STATE_GLO_STRING_SYNC STATE_GLO_TOD_DECODED STATE_BDS_D2_BIT_SYNC STATE_BDS_D2_SUBFRAME_SYNC "
        "STATE_GAL_E1BC_CODE_LOCK STATE_GAL_E1C_2ND_CODE_LOCK STATE_GAL_E1B_PAGE_SYNC STATE_SBAS_SYNC "
        "STATE_TOW_KNOWN STATE_GLO_TOD_KNOWN STATE_2ND_CODE_LOCK".split())},
    "accumulated_delta_range_state_bit_map.json": {str(k): name for k, name in enumerate(
        "ADR_STATE_VALID ADR_STATE_RESET ADR_STATE_CYCLE_SLIP ADR_STATE_HALF_CYCLE_RESOLVED "
        "ADR_STATE_HALF_CYCLE_REPORTED".split())}}
CONSTELLATIONS = "UNKNOWN GPS SBAS GLONASS QZSS BEIDOU GALILEO IRNSS".split()


def _ecef(lat: np.ndarray, lon: np.ndarray, height: np.ndarray) -> np.ndarray:
    """WGS84 geodetic degrees and metres to (n, 3) earth-centred metres."""
    lat, lon = np.radians(lat), np.radians(lon)
    n = WGS84_A / np.sqrt(1 - WGS84_E2 * np.sin(lat) ** 2)
    return np.stack([(n + height) * np.cos(lat) * np.cos(lon), (n + height) * np.cos(lat) * np.sin(lon),
                     (n * (1 - WGS84_E2) + height) * np.sin(lat)], axis=-1)


def _drive(rng: np.random.Generator, seconds: float) -> dict[str, np.ndarray]:
    """A car's run at 10 Hz from a parked start: local east/north/up metres, speed (m/s), heading (degrees
    clockwise from north, unwrapped), along-track acceleration and yaw rate (degrees/s, clockwise): cruising
    at 8-29 m/s, stopping at lights, bending gently and turning a corner about once a minute."""
    n = int(seconds * 10) + 1
    target, k = np.zeros(n), int(rng.integers(20, 60))
    while k < n:
        length = int(rng.integers(100, 350))
        target[k:k + length] = 0.0 if rng.random() < 0.2 else rng.uniform(8, 29)
        k += length
    speed = np.zeros(n)
    for i in range(1, n):  # pulls away at up to 2 m/s², brakes at up to 3 m/s²
        speed[i] = speed[i - 1] + np.clip(target[i] - speed[i - 1], -0.3, 0.2)
    yaw = np.convolve(rng.normal(0, 2.0, n), np.ones(30) / 30, mode="same")
    for start in rng.integers(0, n - 80, rng.poisson(seconds / 60)):
        yaw[start:start + int(rng.integers(60, 80))] += rng.choice([-1, 1]) * rng.uniform(11, 14)
    yaw = np.where(speed > 2, yaw, 0.0)
    heading = rng.uniform(0, 360) + np.cumsum(yaw) * 0.1
    slope = np.convolve(rng.normal(0, 0.03, n), np.ones(100) / 100, mode="same")
    return {"t": np.arange(n) / 10, "east": np.cumsum(speed * np.sin(np.radians(heading))) * 0.1,
            "north": np.cumsum(speed * np.cos(np.radians(heading))) * 0.1, "up": np.cumsum(speed * slope) * 0.1,
            "speed": speed, "heading": heading, "accel": np.gradient(speed, 0.1), "yaw": yaw}


def _wls(sats: np.ndarray, ranges: np.ndarray, sigma: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """The weighted least-squares position (x, y, z) from corrected pseudoranges, the clock solved alongside."""
    state = np.append(guess, 0.0)
    for _ in range(6):
        diff = state[:3] - sats
        distance = np.linalg.norm(diff, axis=1)
        jacobian = np.column_stack([diff / distance[:, None], np.ones(len(ranges))]) / sigma[:, None]
        state += np.linalg.lstsq(jacobian, (ranges - distance - state[3]) / sigma, rcond=None)[0]
    return state[:3]


def _nmea(seconds: np.ndarray, lat: np.ndarray, lon: np.ndarray, height: np.ndarray, speed: np.ndarray,
          heading: np.ndarray) -> str:
    """GGA and RMC sentences, one pair a second, as a reference receiver logs them (height above the geoid,
    here 32 m above the ellipsoid; speed in knots)."""
    lines = []
    for t, la, lo, h, v, course in zip(seconds, lat, lon, height, speed, heading):
        when = datetime.fromtimestamp(float(t), UTC)
        clock = f"{when:%H%M%S}.00"
        place = (f"{int(abs(la)):02d}{abs(la) % 1 * 60:011.8f},{'N' if la >= 0 else 'S'},"
                 f"{int(abs(lo)):03d}{abs(lo) % 1 * 60:011.8f},{'E' if lo >= 0 else 'W'}")
        for body in (f"GPGGA,{clock},{place},4,24,0.6,{h + 32:.3f},M,-32.000,M,1.0,0000",
                     f"GPRMC,{clock},A,{place},{v * 1.943844:.3f},{course % 360:.2f},{when:%d%m%y},,,D"):
            lines.append(f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}")
    return "\n".join(lines) + "\n"


def _phone_logs(rng: np.random.Generator, drive: dict[str, np.ndarray], origin: tuple[float, float, float],
                start_ms: int, phone: str, year: int) -> dict[str, object]:
    """One phone's ground_truth.csv, device_gnss.csv, device_imu.csv and span_log.nmea for a drive."""
    lat0, lon0, h0 = origin
    meridian = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * np.sin(np.radians(lat0)) ** 2) ** 1.5
    normal = WGS84_A / np.sqrt(1 - WGS84_E2 * np.sin(np.radians(lat0)) ** 2)

    def place(t: np.ndarray) -> tuple[np.ndarray, ...]:
        east, north, up = (np.interp(t, drive["t"], drive[key]) for key in ("east", "north", "up"))
        return (lat0 + np.degrees(north / meridian), lon0 + np.degrees(east / (normal * np.cos(np.radians(lat0)))),
                h0 + up)

    first, last = rng.uniform(0.5, 4), drive["t"][-1] - rng.uniform(0.5, 4)
    seconds = np.arange(np.floor(first), last - 1) + int(rng.integers(0, 1000)) / 1000
    if rng.random() < 0.3:  # too few signals for a few seconds: no epoch there, in the logs or the answers
        gap = int(rng.integers(10, len(seconds) - 10))
        seconds = np.delete(seconds, np.arange(gap, gap + int(rng.integers(2, 5))))
    ms = start_ms + np.round(seconds * 1000).astype(np.int64)
    lat, lon, height = place(seconds)
    speed = np.interp(seconds, drive["t"], drive["speed"])
    heading = np.interp(seconds, drive["t"], drive["heading"])
    truth = pd.DataFrame({"MessageType": "Fix", "Provider": "GT", "LatitudeDegrees": lat.round(7),
                          "LongitudeDegrees": lon.round(7), "AltitudeMeters": height.round(3),
                          "SpeedMps": speed.round(6), "AccuracyMeters": 0.1, "BearingDegrees": (heading % 360).round(5),
                          "UnixTimeMillis": ms})

    # the satellites: fixed directions drifting slowly across the sky, at their orbits' distance
    axes = np.array([[-np.sin(np.radians(lon0)), np.cos(np.radians(lon0)), 0.0],
                     [-np.sin(np.radians(lat0)) * np.cos(np.radians(lon0)),
                      -np.sin(np.radians(lat0)) * np.sin(np.radians(lon0)), np.cos(np.radians(lat0))],
                     [np.cos(np.radians(lat0)) * np.cos(np.radians(lon0)),
                      np.cos(np.radians(lat0)) * np.sin(np.radians(lon0)), np.sin(np.radians(lat0))]])
    kinds = ["GPS_L1"] * 4 + ["GAL_E1", "GAL_E1", "GLO_G1", "BDS_B1I"]
    svids = {kind: rng.choice(np.arange(1, SIGNALS[kind][5] + 1), kinds.count(kind), replace=False) for kind in SIGNALS}
    sky = [(kind, int(svids[kind][kinds[:s].count(kind)]), rng.uniform(0, 360), rng.uniform(12, 80),
            rng.uniform(-0.01, 0.01), rng.uniform(-0.008, 0.008)) for s, kind in enumerate(kinds)]
    receiver = _ecef(lat, lon, height)
    t = seconds - seconds[0]
    elevation = np.clip(np.array([el + rate * t for _, _, _, el, _, rate in sky]).T, 5, 89)
    azimuth = np.array([(az + rate * t) % 360 for _, _, az, _, rate, _ in sky]).T
    sight = (np.cos(np.radians(elevation))[..., None] * (np.sin(np.radians(azimuth))[..., None] * axes[0]
             + np.cos(np.radians(azimuth))[..., None] * axes[1]) + np.sin(np.radians(elevation))[..., None] * axes[2])
    radius = np.array([SIGNALS[kind][4] for kind in kinds])
    along = (receiver[:, None, :] * sight).sum(-1)
    distance = -along + np.sqrt(along ** 2 - (receiver ** 2).sum(-1)[:, None] + radius ** 2)
    sat_position = receiver[:, None, :] + distance[..., None] * sight
    sat_velocity = np.cross(sat_position[0], rng.normal(size=(len(sky), 3)))
    sat_velocity *= rng.uniform(2600, 3900, (len(sky), 1)) / np.linalg.norm(sat_velocity, axis=1, keepdims=True)
    heading_rad = np.radians(heading)
    rx_velocity = speed[:, None] * (np.sin(heading_rad)[:, None] * axes[0] + np.cos(heading_rad)[:, None] * axes[1])
    noisy = 1.5 if phone == "XiaomiMi8" else 1.0  # the older chipset tracks worse

    # the errors: receiver clock, satellite clocks, atmosphere (modelled well, not perfectly), multipath
    drift_ns = rng.uniform(-600, 600)
    clock = rng.uniform(-80, 80) + np.cumsum(rng.normal(0, 0.3, len(t)))
    sv_clock = rng.uniform(-2e5, 2e5, len(sky)) + np.outer(t, rng.uniform(-0.01, 0.01, len(sky)))
    sv_drift = np.gradient(sv_clock, axis=0)
    isrb = np.array([0.0 if kind == "GPS_L1" else rng.uniform(-15, 15) for kind in kinds])
    iono_model = rng.uniform(2, 6) / np.sqrt(1 - (0.9487 * np.cos(np.radians(elevation))) ** 2)
    tropo_model = 2.4 / np.sin(np.radians(elevation + 2))
    multipath = np.zeros_like(distance)
    for k in range(1, len(t)):
        multipath[k] = 0.97 * multipath[k - 1] + rng.normal(0, 0.3 * noisy / np.sqrt(np.sin(np.radians(elevation[k]))))
    for s in rng.choice(len(sky), rng.poisson(len(t) / 60), replace=True):  # a reflection off a building
        start = int(rng.integers(0, len(t)))
        multipath[start:start + int(rng.integers(3, 12)), s] += rng.uniform(10, 40)
    cn0 = 22 + 22 * np.sin(np.radians(elevation)) - 0.3 * np.abs(multipath) + rng.normal(0, 1.5, distance.shape)
    uncertainty_ns = np.clip(np.round(8 + 25 * (1 - np.sin(np.radians(elevation))) * noisy
                                      + rng.exponential(4, distance.shape)), 2, 120)
    pseudorange = (distance + clock[:, None] + isrb - sv_clock + iono_model * rng.normal(1, 0.1, len(sky))
                   + tropo_model * rng.normal(1, 0.03, len(sky)) + multipath
                   + rng.normal(0, 1.2 * noisy, distance.shape))
    tracked = (rng.random(distance.shape) > 0.06) & (elevation > 8)
    for s in range(len(sky)):  # a satellite lost behind a building or a bridge for a while
        if rng.random() < 0.4:
            start = int(rng.integers(0, len(t)))
            tracked[start:start + int(rng.integers(5, 25)), s] = False
    adr_valid = rng.random(len(sky)) < 0.7
    range_rate = ((sat_velocity[None] - rx_velocity[:, None]) * sight).sum(-1) + drift_ns * LIGHT * 1e-9

    arrival = (ms + LEAP_MS - GPS_EPOCH_MS) * 10 ** 6  # int64 nanoseconds: a float would lose 256 ns
    hardware = (rng.uniform(1e11, 5e12) + t * 1e9 + drift_ns * t).astype(np.int64)
    sent = arrival[:, None] - np.round(pseudorange / LIGHT * 1e9).astype(np.int64)
    wls = np.full((len(t), 3), np.nan)
    for k in range(len(t)):
        use = tracked[k]
        if use.sum() >= 5:
            corrected = pseudorange[k, use] + sv_clock[k, use] - isrb[use] - iono_model[k, use] - tropo_model[k, use]
            wls[k] = _wls(sat_position[k, use], corrected, uncertainty_ns[k, use] * LIGHT * 1e-9,
                          receiver[k] + rng.normal(0, 30, 3))
    rows = []
    for k in range(len(t)):
        clock_fields = {
            "MessageType": "Raw", "utcTimeMillis": ms[k], "TimeNanos": hardware[k], "LeapSecond": np.nan,
            "FullBiasNanos": hardware[k] - arrival[k], "BiasNanos": 0.0,
            "BiasUncertaintyNanos": round(rng.uniform(5, 25), 6), "DriftNanosPerSecond": round(drift_ns, 3),
            "DriftUncertaintyNanosPerSecond": 1.0, "HardwareClockDiscontinuityCount": 16, "TimeOffsetNanos": 0.0,
            "ChipsetElapsedRealtimeNanos": np.nan if year == 2020 else hardware[k] + 2 * 10 ** 9,
            "WlsPositionXEcefMeters": wls[k, 0], "WlsPositionYEcefMeters": wls[k, 1],
            "WlsPositionZEcefMeters": wls[k, 2]}
        for s, (kind, svid, *_) in enumerate(sky):
            constellation, carrier, state, code, _, _ = SIGNALS[kind]
            if elevation[k, s] <= 8:
                continue
            signal = {**clock_fields, "Svid": svid, "ConstellationType": constellation, "CodeType": code,
                      "CarrierFrequencyHz": carrier + (562500.0 * (svid % 14 - 7) if kind == "GLO_G1" else 0.0),
                      "PseudorangeRateMetersPerSecond": round(range_rate[k, s] + rng.normal(0, 0.05), 6),
                      "AccumulatedDeltaRangeMeters": round(distance[k, s] - distance[0, s] + clock[k] - clock[0], 4)}
            if not tracked[k, s]:  # seen but not locked: the derived columns stay empty, as in the real files
                rows.append({**signal, "State": 16384, "ReceivedSvTimeNanos": int(rng.integers(10 ** 12, 6 * 10 ** 14)),
                             "ReceivedSvTimeUncertaintyNanos": 1000000000, "Cn0DbHz": round(rng.uniform(12, 21), 4),
                             "PseudorangeRateUncertaintyMetersPerSecond": LIGHT, "AccumulatedDeltaRangeState": 16,
                             "AccumulatedDeltaRangeUncertaintyMeters": 3.4028234663852886e38,
                             "MultipathIndicator": int(rng.random() < 0.3)})
                continue
            period = (86400 if kind == "GLO_G1" else 604800) * 10 ** 9  # GLONASS counts the day, others the week
            moscow = (3 * 3600 * 1000 - LEAP_MS) * 10 ** 6 if kind == "GLO_G1" else 0
            rows.append({
                **signal, "State": state, "ReceivedSvTimeNanos": (sent[k, s] + moscow) % period,
                "ReceivedSvTimeUncertaintyNanos": int(uncertainty_ns[k, s]), "Cn0DbHz": round(cn0[k, s], 4),
                "PseudorangeRateUncertaintyMetersPerSecond": round(rng.uniform(0.15, 1.0), 6),
                "AccumulatedDeltaRangeState": 25 if adr_valid[s] else 16,
                "AccumulatedDeltaRangeUncertaintyMeters": round(rng.uniform(0.001, 0.007), 6) if adr_valid[s]
                else 3.4028234663852886e38,
                "MultipathIndicator": 0, "ArrivalTimeNanosSinceGpsEpoch": float(arrival[k]),
                "RawPseudorangeMeters": round(pseudorange[k, s], 4),
                "RawPseudorangeUncertaintyMeters": round(uncertainty_ns[k, s] * LIGHT * 1e-9, 6),
                "SignalType": kind, "ReceivedSvTimeNanosSinceGpsEpoch": float(sent[k, s]),
                **{f"SvPosition{a}EcefMeters": round(sat_position[k, s, i], 3) for i, a in enumerate("XYZ")},
                "SvElevationDegrees": round(elevation[k, s], 5), "SvAzimuthDegrees": round(azimuth[k, s], 5),
                **{f"SvVelocity{a}EcefMetersPerSecond": round(sat_velocity[s, i], 4) for i, a in enumerate("XYZ")},
                "SvClockBiasMeters": round(sv_clock[k, s], 4), "SvClockDriftMetersPerSecond": round(sv_drift[k, s], 7),
                "IsrbMeters": round(isrb[s], 4), "IonosphericDelayMeters": round(iono_model[k, s], 4),
                "TroposphericDelayMeters": round(tropo_model[k, s], 4)})
    gnss = pd.DataFrame(rows).reindex(columns=GNSS_COLUMNS)
    gnss = gnss.sort_values(["utcTimeMillis", "ConstellationType", "Svid"], kind="stable", ignore_index=True)

    # the IMU at 5 Hz (the real ones log 100 Hz and more): a phone in a holder, turned and tilted in the car
    imu_t = np.arange(np.ceil(first * 5) / 5, last, 0.2)
    turn, tilt = np.radians(rng.choice([0, 90, 180, 270]) + rng.normal(0, 5)), np.radians(rng.uniform(-20, 20))
    mount = np.array([[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]]) @ np.array(
        [[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    motion = {key: np.interp(imu_t, drive["t"], drive[key]) for key in ("speed", "heading", "accel", "yaw")}
    left_turn = np.radians(-motion["yaw"])  # car frame: x forward, y left, z up
    car = {"UncalAccel": np.column_stack([motion["accel"], motion["speed"] * left_turn, np.full(len(imu_t), 9.81)]),
           "UncalGyro": np.column_stack([np.zeros((len(imu_t), 2)), left_turn]),
           "UncalMag": np.column_stack([22.5 * np.cos(np.radians(motion["heading"])),
                                        22.5 * np.sin(np.radians(motion["heading"])), np.full(len(imu_t), -42.0)])}
    noise = {"UncalAccel": 0.05, "UncalGyro": 0.002, "UncalMag": 0.6}
    bias_size = {"UncalAccel": 0.0, "UncalGyro": 0.004, "UncalMag": 25.0}
    boot_ns = int(rng.uniform(1e11, 5e12))
    imu_ms = start_ms + np.round(imu_t * 1000).astype(np.int64)
    parts = []
    for kind, values in car.items():
        bias = rng.uniform(-1, 1, 3) * bias_size[kind]
        measured = values @ mount.T + bias + rng.normal(0, noise[kind], values.shape)
        estimate = np.full(3, np.nan) if year == 2020 else bias + rng.normal(0, 0.1 * bias_size[kind], 3)
        parts.append(pd.DataFrame({"MessageType": kind, "utcTimeMillis": imu_ms,
                                   "elapsedRealtimeNanos": boot_ns + np.round(imu_t * 1e9).astype(np.int64),
                                   **{f"Measurement{a}": measured[:, i].round(7) for i, a in enumerate("XYZ")},
                                   **{f"Bias{a}": round(float(estimate[i]), 7) for i, a in enumerate("XYZ")}}))
    imu = pd.concat(parts).sort_values("utcTimeMillis", kind="stable", ignore_index=True)
    whole = np.arange(np.ceil(first), last)
    span = _nmea(start_ms / 1000 + whole, *place(whole), np.interp(whole, drive["t"], drive["speed"]),
                 np.interp(whole, drive["t"], drive["heading"]))
    return {"ground_truth.csv": truth, "device_gnss.csv": gnss, "device_imu.csv": imu, "span": span}


def smartphone(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """smartphone-decimeter-2022: train/ and test/<drive_id>/<phone>/ (drive ids `2020-05-15-US-MTV-1`, a date,
    a city and a count; phones `GooglePixel4`, `XiaomiMi8`, ...; one to three phones a drive) holding
    device_gnss.csv (47 columns MessageType ... WlsPositionZEcefMeters: a row per signal per epoch, once a
    second, with the satellite's ECEF position, clock bias, ISRB, modelled ionospheric and tropospheric delays,
    the raw pseudorange and its uncertainty, and the phone's own weighted-least-squares fix, repeated on the
    epoch's rows; signals seen but not locked keep State 16384 and empty derived columns), device_imu.csv
    (MessageType UncalAccel/UncalGyro/UncalMag, utcTimeMillis, elapsedRealtimeNanos, Measurement[XYZ],
    Bias[XYZ], empty before 2021), supplemental/ and in train/ ground_truth.csv (MessageType `Fix`, Provider
    `GT`, LatitudeDegrees, LongitudeDegrees, AltitudeMeters, SpeedMps, AccuracyMeters, BearingDegrees,
    UnixTimeMillis at the phone's epochs). metadata/ holds raw_state_bit_map.json,
    accumulated_delta_range_state_bit_map.json and constellation_type_mapping.csv. prepare.py splits the
    sorted distinct DATES of the drives (train_test_split, test_size 0.1, random_state 0; here 0.2, so that a
    few drives are scored), copies whole drive folders to train/ or test/ and deletes test's ground_truth.csv
    files; the answers (tripId `<drive_id>-<phone>`, UnixTimeMillis, LatitudeDegrees, LongitudeDegrees) are
    the test phones' ground truth concatenated in sorted path order, sample_submission.csv the same rows with
    latitude 37.904611315634504 and longitude -86.48107806249548; the mean over phones of the mean of the 50th
    and 95th percentile horizontal errors in metres. supplemental/ keeps span_log.nmea, the reference
    receiver's GGA/RMC log from which the ground truth is interpolated, in test/ as well (prepare.py deletes
    only ground_truth.csv); the phone's own gnss_log.txt and RINEX gnss_rinex.2Xo copies of the same
    measurements are left out. Here 12 dates, drives of 90-150 s (the real ones last about an hour), 8
    satellites of four constellations a phone, the IMU at 5 Hz; the WLS fix is a real solve of the noisy
    pseudoranges (multipath wandering a few metres, bursts of 10-40 m off buildings, the Xiaomi noisier), so
    smoothing and outlier rejection pay, as on the real data."""
    from sklearn.model_selection import train_test_split

    days = sorted(pd.Timestamp("2020-05-14") + pd.to_timedelta(rng.choice(715, 12, replace=False), unit="D"))
    drives = {}
    for day in days:
        cities = rng.choice(list(CITIES), 2 if rng.random() < 0.2 else 1, replace=False)
        for city in cities:
            drives[f"{day:%Y-%m-%d}-US-{city}-{1 if rng.random() < 0.85 else 2}"] = (day, str(city))
    dates = sorted({drive[:10] for drive in drives})
    _, test_dates = train_test_split(dates, test_size=0.2, random_state=0)  # the real 0.1
    (folder / "metadata").mkdir(parents=True, exist_ok=True)
    for name, content in GNSS_METADATA.items():
        (folder / "metadata" / name).write_text(json.dumps(content, indent=4))
    pd.DataFrame({"ConstellationType": range(len(CONSTELLATIONS)), "ConstellationName": CONSTELLATIONS}).to_csv(
        folder / "metadata" / "constellation_type_mapping.csv", index=False)
    answers = []
    for drive_id in sorted(drives):
        day, city = drives[drive_id]
        drive = _drive(rng, rng.uniform(90, 150))
        lat, lon, height = CITIES[city]
        origin = (lat + rng.uniform(-0.03, 0.03), lon + rng.uniform(-0.03, 0.03), height + rng.uniform(-5, 5))
        start_ms = int((day + pd.Timedelta(hours=float(rng.uniform(16, 23)))).timestamp()) * 1000
        pool = PHONES[day.year]
        for phone in sorted(rng.choice(pool, int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15])), replace=False)):
            logs = _phone_logs(rng, drive, origin, start_ms, str(phone), day.year)
            part = "test" if drive_id[:10] in test_dates else "train"
            where = folder / part / drive_id / str(phone)
            (where / "supplemental").mkdir(parents=True, exist_ok=True)
            (where / "supplemental" / "span_log.nmea").write_text(logs["span"])
            for name in ("device_gnss.csv", "device_imu.csv") + (("ground_truth.csv",) if part == "train" else ()):
                logs[name].to_csv(where / name, index=False)
            if part == "test":
                answers.append(logs["ground_truth.csv"].assign(tripId=f"{drive_id}-{phone}")[
                    ["tripId", "UnixTimeMillis", "LatitudeDegrees", "LongitudeDegrees"]])
    answers = pd.concat(answers, ignore_index=True)
    answers.assign(LatitudeDegrees=37.904611315634504, LongitudeDegrees=-86.48107806249548).to_csv(
        folder / "sample_submission.csv", index=False)
    (folder.parent / "competition.yaml").write_text("group_column: tripId\n")  # what grade.py averages over
    return answers


# --- nfl-player-contact-detection ------------------------------------------------------------------------

NFL_ROLES = {  # position: on offense, yards behind (offense) or beyond (defense) the line, yards across, top speed
    "QB": (True, 5.0, 0.0, 6.5), "RB": (True, 7.0, 1.0, 8.5), "WR": (True, 1.0, 17.0, 9.0),
    "TE": (True, 1.0, 4.5, 7.0), "C": (True, 1.0, 0.0, 4.5), "G": (True, 1.0, -1.5, 4.5), "T": (True, 1.0, -3.0, 4.5),
    "DE": (False, 1.5, -3.5, 7.0), "DT": (False, 1.5, 0.5, 5.5), "OLB": (False, 4.0, 4.5, 7.5),
    "ILB": (False, 5.0, -1.0, 7.5), "CB": (False, 7.0, 17.0, 8.5), "SS": (False, 10.0, -6.0, 8.0),
    "FS": (False, 14.0, 3.0, 8.0)}
NFL_JERSEYS = {"QB": (1, 19), "RB": (20, 49), "WR": (80, 89), "TE": (80, 89), "C": (50, 79), "G": (50, 79),
               "T": (50, 79), "DE": (90, 99), "DT": (90, 99), "OLB": (50, 59), "ILB": (40, 59), "CB": (20, 39),
               "SS": (20, 49), "FS": (20, 49)}
NFL_BLOCKS = [("C", "DT"), ("T", "DE"), ("TE", "OLB"), ("G", "ILB")]  # blocker, defender he meets
NFL_STEPS, NFL_BEFORE, NFL_AFTER = 30, 10, 5  # labelled steps from the snap; steps tracked before, after them
NFL_POSITIONS = list(NFL_ROLES)


def _bearing(vectors: np.ndarray) -> np.ndarray:
    """Angles of (x, y) field vectors in the tracking data's convention: degrees clockwise from the +y axis."""
    return (90 - np.degrees(np.arctan2(vectors[..., 1], vectors[..., 0]))) % 360


def _nfl_play(rng: np.random.Generator) -> tuple[np.ndarray, set, np.ndarray, int]:
    """One play of 14 players in NFL_POSITIONS order at 10 Hz from NFL_BEFORE steps before the snap: (x, y)
    yards, the contacts {(step, i, j)} with j -1 for the ground, who lies on the ground when, and the
    offense's direction (+1 towards growing x). Three blocks meet at the line a few steps after the snap and
    hold for 1-2 s a yard apart; the ball carrier (the running back, or a receiver) is tackled 1.2-2.2 s in,
    both go down for most of a second, and a second defender often joins the pile. Players who merely pass
    within a yard or so are not in contact; the labels' edges wander by a step."""
    direction, line, middle = int(rng.choice([-1, 1])), rng.uniform(25, 95), 26.65 + rng.uniform(-6, 6)
    strong = rng.choice([-1, 1])
    n = NFL_BEFORE + NFL_STEPS + NFL_AFTER
    start = np.array([[line - direction * depth if offense else line + direction * depth, middle + strong * across]
                      for offense, depth, across, _ in NFL_ROLES.values()]) + rng.normal(0, 0.3, (14, 2))
    start[NFL_POSITIONS.index("CB"), 1] = start[NFL_POSITIONS.index("WR"), 1] + rng.normal(0, 0.5)
    top = np.array([role[3] for role in NFL_ROLES.values()]) * rng.uniform(0.85, 1.1, 14)
    index = {p: NFL_POSITIONS.index(p) for p in NFL_POSITIONS}
    carrier = index["RB"] if rng.random() < 0.6 else index["WR"]
    tackler = index[str(rng.choice(["CB", "SS", "FS"] if carrier == index["WR"] else ["SS", "FS", "ILB"]))]
    helper = index[str(rng.choice([p for p in ("ILB", "SS", "FS", "OLB") if index[p] != tackler]))]
    tackle = NFL_BEFORE + int(rng.integers(12, 22))
    blocks = [(index[a], index[b], NFL_BEFORE + int(rng.integers(1, 4)), rng.uniform(0.7, 1.0))
              for a, b in (NFL_BLOCKS[k] for k in rng.choice(len(NFL_BLOCKS), 3, replace=False))
              if index[b] != tackler]
    blocks = [(a, b, s0, min(s0 + int(rng.integers(8, 20)), tackle - 2), gap) for a, b, s0, gap in blocks]
    sway = np.cumsum(rng.normal(0, 0.01, (14, n, 2)), axis=1)  # standing players shift their weight a little
    pos = start[:, None, :] + sway - sway[:, NFL_BEFORE:NFL_BEFORE + 1]
    velocity = np.zeros((14, 2))
    down = np.zeros((14, n), dtype=bool)
    down[carrier, tackle + 2:tackle + 10] = True
    if rng.random() < 0.7:
        down[tackler, tackle + 3:tackle + 9] = True
    joins = rng.random() < 0.5
    for k in range(NFL_BEFORE + 1, n):
        goals = start.copy()
        for p, (offense, _, _, _) in enumerate(NFL_ROLES.values()):
            here = pos[p, k - 1]
            if p == carrier and k > NFL_BEFORE + 3:
                goals[p] = here + [direction * 10, rng.normal(0, 2)]
            elif p == index["WR"]:
                goals[p] = here + [direction * 10, 0]
            elif p == index["QB"]:
                goals[p] = start[p] - [direction * 3, 0]
            elif offense:
                goals[p] = start[p] - [direction * 1.5, 0]
            elif p in (tackler, helper) or NFL_POSITIONS[p] in ("SS", "FS"):  # pursuit: ahead of him, then at him
                goals[p] = pos[carrier, k - 1] + ([0, 0] if p == tackler and k >= tackle - 4 else [direction * 4, 0])
            elif NFL_POSITIONS[p] == "CB":
                goals[p] = pos[index["WR"], k - 1] + [direction * 1.5, 0]
            else:  # the pass rush
                goals[p] = pos[index["QB"], k - 1]
        wanted = goals - pos[:, k - 1]
        far = np.linalg.norm(wanted, axis=1, keepdims=True)
        wanted = np.where(far > 0.3, wanted / np.maximum(far, 1e-9) * top[:, None], 0.0)
        wanted += rng.normal(0, 1.5, (14, 2))  # after the snap nobody on his feet stands still
        change = wanted - velocity
        steered = velocity + change * np.minimum(1, 0.6 / np.maximum(np.linalg.norm(change, axis=1, keepdims=True),
                                                                     1e-9))
        stopped = down[:, k] | (k > tackle) & np.isin(np.arange(14), [carrier, tackler])  # the tackle stops them
        velocity = np.where(stopped[:, None], velocity * 0.5, steered)
        pos[:, k] = pos[:, k - 1] + velocity * 0.1
        pairs = [(a, b, gap) for a, b, s0, s1, gap in blocks if s0 <= k <= s1]
        pairs += [(carrier, tackler, 0.7)] if tackle <= k <= tackle + 9 else []
        pairs += [(carrier, helper, 0.9)] if joins and tackle + 2 <= k <= tackle + 7 else []
        for a, b, gap in pairs:  # held together: b drawn to `gap` yards from a, no faster than a sprint
            apart = pos[b, k] - pos[a, k]
            pull = pos[a, k] + apart / max(np.linalg.norm(apart), 1e-6) * (gap + rng.normal(0, 0.05)) - pos[b, k]
            pos[b, k] += pull * min(1.0, 0.8 / max(np.linalg.norm(pull), 1e-6))
    contacts = set()
    apart = np.linalg.norm(pos[:, None] - pos[None, :], axis=-1)
    windows = [(a, b, s0, s1, gap) for a, b, s0, s1, gap in blocks] + [(carrier, tackler, tackle, tackle + 9, 0.7)]
    windows += [(carrier, helper, tackle + 2, tackle + 7, 0.9)] if joins else []
    for i, j, s0, s1, gap in windows:  # in contact once they have met
        s0, s1 = s0 + int(rng.choice([-1, 0, 0, 1])), s1 + int(rng.choice([-1, 0, 0, 1]))  # the labellers' edges
        contacts.update((s - NFL_BEFORE, min(i, j), max(i, j)) for s in range(s0, s1 + 1)
                        if apart[i, j, s] < gap + 0.35)
    for p in np.flatnonzero(down.any(axis=1)):
        s0, s1 = np.flatnonzero(down[p])[[0, -1]] + rng.choice([-1, 0, 0, 1], 2)
        contacts.update((s - NFL_BEFORE, int(p), -1) for s in range(s0, s1 + 1))
    for i, j, k in zip(*np.nonzero((apart < 0.5) & np.triu(np.ones((14, 14), dtype=bool), 1)[..., None])):
        contacts.add((int(k) - NFL_BEFORE, int(i), int(j)))  # a brush in passing counts as well
    return pos, contacts, down, direction


def _stamp(moment: datetime) -> str:
    """`2020-09-11T03:01:48.100Z`, the tracking and label files' timestamps."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def nfl_contacts(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """nfl-player-contact-detection: train_labels.csv (contact_id `<game_key>_<play_id 6 digits>_<step>_<id1>_
    <id2>`, game_play `58168_003392`, datetime `2020-09-11T03:01:48.100Z`, step from 0 at the snap,
    nfl_player_id_1, nfl_player_id_2 the larger id or `G` for the ground, contact 0/1): a row for every pair
    of the play's players and every player with the ground at every 0.1 s step. [train|test]_player_tracking.csv
    (game_play, game_key, play_id, nfl_player_id, datetime, step from before the snap to after the labels,
    team home/away, position, jersey_number, x_position, y_position, speed, distance, direction, orientation,
    acceleration, sa), [train|test]_baseline_helmets.csv (game_play, game_key, play_id, view Endzone/Sideline,
    video `<game_play>_<view>.mp4`, frame at 59.94 Hz with the snap at 300, nfl_player_id and player_label `H72`
    of an imperfect assignment model, left, width, top, height in pixels of 1280 x 720) and
    [train|test]_video_metadata.csv (game_play, game_key, play_id, view, start_time, end_time, snap_time).
    prepare.py splits the game_plays (train_test_split, test_size 0.1, random_state 0; here 0.2, so that 3
    plays are scored), writes the test plays' tracking, helmets and metadata to the test_ files, their label
    rows to the answers (all seven columns) and contact_id with contact 0 to sample_submission.csv; MCC on the
    0/1 predictions. The three videos a play (All29, Endzone, Sideline mp4) in train/ and test/ are left out
    (nothing here writes MP4). Here 4 games of 3 plays, 7 players a side (the real 11), steps 0-29 labelled
    (the real plays run for 5-15 s), helmets on the frames nearest each step (the real file has every frame).
    Contacts are blocks held at a yard, a tackle and the pile on the ball carrier, brushes closer than half a
    yard; players on the ground stop, and their helmet boxes sit low in the frame."""
    from sklearn.model_selection import train_test_split

    labels, tracking, helmets, videos = [], [], [], []
    for game_key in sorted(rng.choice(np.arange(58100, 58600), 4, replace=False)):
        kickoff = datetime(2020, 9, 10, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 450)),
                                                                         hours=int(rng.integers(17, 24)))
        teams = {}
        for team in ("home", "away"):
            numbers = {}
            for position in NFL_POSITIONS:
                low, high = NFL_JERSEYS[position]
                numbers[position] = int(rng.choice([v for v in range(low, high + 1) if v not in numbers.values()]))
            teams[team] = numbers
        ids = iter(rng.choice(np.arange(25000, 55000), 28, replace=False))
        roster = {(team, position): int(next(ids)) for team in teams for position in NFL_POSITIONS}
        for play_id in sorted(rng.choice(np.arange(50, 4000), 3, replace=False)):
            game_play = f"{game_key}_{play_id:06d}"
            keys = {"game_play": game_play, "game_key": int(game_key), "play_id": int(play_id)}
            pos, contacts, down, direction = _nfl_play(rng)
            offense = str(rng.choice(["home", "away"]))
            team = [offense if NFL_ROLES[p][0] else ("away" if offense == "home" else "home") for p in NFL_POSITIONS]
            players = [roster[team[p], position] for p, position in enumerate(NFL_POSITIONS)]
            snap = kickoff + timedelta(minutes=float(rng.uniform(0, 180)))
            snap -= timedelta(microseconds=snap.microsecond % 100000)  # tracking ticks on the tenth of a second
            for step in range(NFL_STEPS):
                moment = _stamp(snap + timedelta(seconds=step / 10))
                for i in range(14):
                    for j in [*range(i + 1, 14), -1]:  # the ground last
                        first, second = (players[i], "G") if j < 0 else sorted((players[i], players[j]))
                        labels.append({"contact_id": f"{game_play}_{step}_{first}_{second}", "game_play": game_play,
                                       "datetime": moment, "step": step, "nfl_player_id_1": first,
                                       "nfl_player_id_2": second, "contact": int((step, i, j) in contacts)})
            moving = np.gradient(pos, 0.1, axis=1)
            speed = np.linalg.norm(moving, axis=-1)
            distance = np.linalg.norm(np.diff(pos, axis=1, prepend=pos[:, :1]), axis=-1)
            heading = _bearing(moving)
            ahead = np.where([NFL_ROLES[p][0] for p in NFL_POSITIONS], _bearing(np.array([direction, 0.0])),
                             _bearing(np.array([-direction, 0.0])))  # standing players face the other side
            facing = np.where(speed > 0.5, heading, ahead[:, None])
            acceleration = np.linalg.norm(np.gradient(moving, 0.1, axis=1), axis=-1)
            signed = np.gradient(speed, 0.1, axis=1)
            for k in range(pos.shape[1]):
                for p, position in enumerate(NFL_POSITIONS):
                    tracking.append({**keys, "nfl_player_id": players[p],
                                     "datetime": _stamp(snap + timedelta(seconds=(k - NFL_BEFORE) / 10)),
                                     "step": k - NFL_BEFORE, "team": team[p], "position": position,
                                     "jersey_number": teams[team[p]][position],
                                     "x_position": round(pos[p, k, 0], 2), "y_position": round(pos[p, k, 1], 2),
                                     "speed": round(speed[p, k], 2), "distance": round(distance[p, k], 2),
                                     "direction": round(heading[p, k], 2),
                                     "orientation": round((facing[p, k] + rng.normal(0, 15)) % 360, 2),
                                     "acceleration": round(acceleration[p, k], 2), "sa": round(signed[p, k], 2)})
            start = snap - timedelta(seconds=5) + timedelta(milliseconds=int(rng.integers(0, 60)))
            length = timedelta(seconds=float(rng.uniform(11, 14)))
            focus = pos[:, NFL_BEFORE, 0].mean()
            for view in ("Endzone", "Sideline"):
                videos.append({**keys, "view": view, "start_time": _stamp(start), "end_time": _stamp(start + length),
                               "snap_time": _stamp(start + timedelta(seconds=5))})
                for step in range(-2, NFL_STEPS):
                    k = step + NFL_BEFORE
                    if view == "Sideline":  # a camera 25 yards off the near sideline, panned to the line
                        depth, across = pos[:, k, 1] + 25, pos[:, k, 0] - focus
                    else:  # a camera 45 yards behind the offense
                        depth, across = np.abs(pos[:, k, 0] - (focus - direction * 45)), pos[:, k, 1] - 26.65
                    height = 900 / depth * rng.uniform(0.9, 1.1, 14)
                    left = 640 + 1200 * across / depth + rng.normal(0, 2, 14)
                    top = 150 + 6000 / depth + rng.normal(0, 2, 14) + np.where(down[:, k], 4 * height, 0)
                    for p in range(14):
                        if not (0 <= left[p] <= 1250 and 0 <= top[p] <= 700) or rng.random() < 0.12:
                            continue  # out of the frame or hidden behind another player
                        who = p if rng.random() > 0.07 else int(rng.integers(0, 14))  # the model's assignment errs
                        helmets.append({**keys, "view": view, "video": f"{game_play}_{view}.mp4",
                                        "frame": 300 + round(step * 5.994), "nfl_player_id": players[who],
                                        "player_label": ("H" if team[who] == "home" else "V")
                                        + str(teams[team[who]][NFL_POSITIONS[who]]),
                                        "left": int(left[p]), "width": max(int(height[p] * 0.9), 4),
                                        "top": int(top[p]), "height": max(int(height[p]), 4)})
    labels, tracking = pd.DataFrame(labels), pd.DataFrame(tracking)
    helmets, videos = pd.DataFrame(helmets), pd.DataFrame(videos)
    _, test_plays = train_test_split(list(labels["game_play"].unique()), test_size=0.2, random_state=0)  # real 0.1
    folder.mkdir(parents=True, exist_ok=True)
    held = labels["game_play"].isin(test_plays)
    labels[~held].to_csv(folder / "train_labels.csv", index=False)
    for name, table in (("baseline_helmets", helmets), ("player_tracking", tracking), ("video_metadata", videos)):
        in_test = table["game_play"].isin(test_plays)
        table[~in_test].to_csv(folder / f"train_{name}.csv", index=False)
        table[in_test].to_csv(folder / f"test_{name}.csv", index=False)
    answers = labels[held].reset_index(drop=True)
    pd.DataFrame({"contact_id": answers["contact_id"], "contact": 0}).to_csv(folder / "sample_submission.csv",
                                                                             index=False)
    return answers


# --- google-research-identify-contrails-reduce-global-warming --------------------------------------------

CONTRAIL_BANDS = {  # ABI band: clear-sky brightness temperature (K), cooling under thick cloud, per K of ice
    8: (236.0, 4.0, 0.25), 9: (246.0, 6.0, 0.35), 10: (254.0, 9.0, 0.45), 11: (280.0, 22.0, 0.75),
    12: (259.0, 12.0, 0.5), 13: (284.0, 25.0, 0.95), 14: (283.0, 25.0, 1.0), 15: (280.0, 24.5, 1.6),
    16: (265.0, 15.0, 0.6)}  # thin ice cools band 15 (12.3 µm) more than 14 (11.2 µm): the split-window signal
CONTRAIL_SIZE, CONTRAIL_FRAMES, CONTRAIL_LABELLED = 64, 8, 4  # pixels a side, images a record, the labelled one
CONTRAIL_WKT = ('PROJCS["unknown",GEOGCS["unknown",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
                'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic_2SP"],'
                'PARAMETER["latitude_of_origin",{lat}],PARAMETER["central_meridian",{lon}],'
                'PARAMETER["standard_parallel_1",{lat}],PARAMETER["standard_parallel_2",{lat}],'
                'PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1]]')


def _contrail_record(rng: np.random.Generator) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray]:
    """The nine bands (H, W, 8) float32 kelvin, the labellers' masks (H, W, 1, R) and their majority (H, W, 1),
    both int32: a surface of smooth temperature (warming the window bands most) under natural clouds and broad
    thin cirrus drifting with the wind, and 0-4 contrails, straight lines 1-2.5 pixels wide that appear at some
    frame, widen and drift. A labeller marks a contrail present at the labelled frame (the fifth) with a chance
    that grows with its contrast, with his own idea of its width and ends; contrails born after that frame are
    not labelled, nor are those shorter than 10 pixels."""
    size = CONTRAIL_SIZE
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    wind = rng.normal(0, 0.6, 2)  # pixels a frame
    surface = _smooth(rng, (size, size), 20) * rng.uniform(1, 4)
    sky = _smooth(rng, (2 * size, 2 * size), 14)
    cover = rng.uniform(-0.5, 2.0)
    cirrus = np.clip(_smooth(rng, (2 * size, 2 * size), 24) - 0.8, 0, 1) * rng.uniform(0, 2.5)  # broad thin ice
    trails = [{"centre": rng.uniform(8, size - 8, 2), "angle": rng.uniform(0, np.pi), "length": rng.uniform(8, 50),
               "width": rng.uniform(1.0, 2.5), "contrast": rng.uniform(1.5, 6.0), "born": int(rng.integers(-3, 7)),
               "drift": wind + rng.normal(0, 0.3, 2)} for _ in range(int(rng.choice([0, 0, 1, 2, 3, 4])))]

    def shape(trail: dict, frame: int, widen: float = 0.0, stretch: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Distance across and how far inside the ends, in pixels, of each pixel to the trail at `frame`."""
        centre = trail["centre"] + trail["drift"] * (frame - CONTRAIL_LABELLED)
        along_unit = np.array([np.cos(trail["angle"]), np.sin(trail["angle"])])
        dx, dy = xx - centre[0], yy - centre[1]
        along = dx * along_unit[0] + dy * along_unit[1]
        across = np.abs(-dx * along_unit[1] + dy * along_unit[0])
        width = trail["width"] * (1 + 0.15 * (frame - trail["born"])) + widen
        return across / (width / 2), trail["length"] * stretch / 2 - np.abs(along)

    bands = {band: np.zeros((size, size, CONTRAIL_FRAMES), dtype=np.float32) for band in CONTRAIL_BANDS}
    for frame in range(CONTRAIL_FRAMES):
        shift = np.round(wind * frame).astype(int)
        cloud = np.clip((np.roll(sky, (shift[1], shift[0]), axis=(0, 1))[:size, :size] - cover) * 0.8, 0, 1)
        trail_cooling = np.roll(cirrus, (shift[1], shift[0]), axis=(0, 1))[:size, :size]
        for trail in trails:
            if frame >= trail["born"]:
                across, inside = shape(trail, frame)
                trail_cooling += trail["contrast"] * np.exp(-0.5 * across ** 2) * np.clip(inside + 0.5, 0, 1)
        for band, (clear, thick, thin) in CONTRAIL_BANDS.items():
            bands[band][:, :, frame] = (clear + (surface / 25 - cloud) * thick - thin * trail_cooling
                                        + rng.normal(0, 0.3, (size, size)))
    seen = [t for t in trails if t["born"] <= CONTRAIL_LABELLED and t["length"] >= 10]
    labellers = []
    for _ in range(int(rng.integers(4, 8))):
        marked = np.zeros((size, size), dtype=bool)
        for trail in seen:
            if rng.random() < np.clip(0.25 + 0.15 * trail["contrast"], 0.2, 0.97):
                across, inside = shape(trail, CONTRAIL_LABELLED, rng.normal(0, 0.4), rng.uniform(0.85, 1.1))
                marked |= (across <= 1) & (inside >= 0)
        labellers.append(marked)
    individual = np.stack(labellers, axis=-1)[:, :, None, :].astype(np.int32)
    return bands, individual, (individual.mean(axis=-1) > 0.5).astype(np.int32)


def contrails(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """google-research-identify-contrails-reduce-global-warming: train/<record_id>/ (record ids of 18-19 digits,
    `1000834164244036115`) holding band_08.npy ... band_16.npy ((H, W, 8) float32 brightness temperatures of
    eight images 10 minutes apart, the fifth the labelled one), human_individual_masks.npy ((H, W, 1, R), R
    labellers) and human_pixel_masks.npy ((H, W, 1), where more than half marked a contrail), validation/<id>/
    the same without the individual masks, test/<id>/ the bands only, train_metadata.json and
    validation_metadata.json (lists of {row_min, row_size, col_min, col_size, timestamp, record_id as a
    string, projection_wkt}). prepare.py holds out as many of the raw train records as validation holds
    (train_test_split of the metadata list, random_state 0) and writes the answers (record_id, encoded_pixels:
    the column-major RLE `start length ...` of the pixel mask, `-` when empty, height, width), in the split's
    order; sample_submission.csv has the same four columns with encoded_pixels drawn from `1 3 10 5` and `-`
    after random.seed(0); the global Dice over all test pixels. Here 64 x 64 records (the real 256 x 256), 60
    in train, 20 each in validation and test; a third hold no contrail. A contrail is a thin line colder in the
    window bands, more so at 12.3 than at 11.2 µm (band 15 minus band 14 is the classic cue), appearing at some
    frame and drifting with the wind; natural clouds are broad and cool bands 14 and 15 alike."""
    from sklearn.model_selection import train_test_split

    n_train, n_validation = 80, 20
    ids = [str(v) for v in rng.integers(10 ** 17, 9 * 10 ** 18, n_train + n_validation)]
    records, metadata = {}, []
    for record_id in ids:
        records[record_id] = _contrail_record(rng)
        lat, lon = rng.uniform(20, 50), rng.uniform(-125, -70)
        metadata.append({"row_min": round(rng.uniform(-2e6, 2e6), 4), "row_size": -2000.0,
                         "col_min": round(rng.uniform(-2e6, 2e6), 4), "col_size": 2000.0,
                         "timestamp": float(1555000000 + 600 * int(rng.integers(0, 60000))), "record_id": record_id,
                         "projection_wkt": CONTRAIL_WKT.format(lat=round(lat, 4), lon=round(lon, 4))})
    raw_train, validation = metadata[:n_train], metadata[n_train:]
    train, test = train_test_split(raw_train, test_size=len(validation), random_state=0)
    for part, items in (("train", train), ("test", test), ("validation", validation)):
        for item in items:
            where = folder / part / item["record_id"]
            where.mkdir(parents=True, exist_ok=True)
            bands, individual, pixel = records[item["record_id"]]
            for band, values in bands.items():
                np.save(where / f"band_{band:02}.npy", values)
            if part == "train":
                np.save(where / "human_individual_masks.npy", individual)
            if part != "test":
                np.save(where / "human_pixel_masks.npy", pixel)
    (folder / "train_metadata.json").write_text(json.dumps(train))
    (folder / "validation_metadata.json").write_text(json.dumps(validation))
    answers = pd.DataFrame([{"record_id": item["record_id"],
                             "encoded_pixels": rle.encode(records[item["record_id"]][2][:, :, 0]) or "-",
                             "height": CONTRAIL_SIZE, "width": CONTRAIL_SIZE} for item in test])
    choose = random.Random(0)  # prepare.py's random.seed(0), without touching the global generator
    answers.assign(encoded_pixels=[choose.choice(["1 3 10 5", "-"]) for _ in range(len(answers))]).to_csv(
        folder / "sample_submission.csv", index=False)
    return answers


# --- vesuvius-challenge-ink-detection --------------------------------------------------------------------

GLYPHS = {  # Greek capitals as strokes in a unit box (x to the right, y down); Ο is an ellipse
    "Α": [((0, 1), (0.5, 0)), ((0.5, 0), (1, 1)), ((0.25, 0.55), (0.75, 0.55))],
    "Δ": [((0, 1), (0.5, 0)), ((0.5, 0), (1, 1)), ((0, 1), (1, 1))],
    "Ε": [((0, 0), (0, 1)), ((0, 0), (0.9, 0)), ((0, 0.5), (0.7, 0.5)), ((0, 1), (0.9, 1))],
    "Η": [((0, 0), (0, 1)), ((1, 0), (1, 1)), ((0, 0.5), (1, 0.5))], "Ι": [((0.5, 0), (0.5, 1))],
    "Κ": [((0, 0), (0, 1)), ((0.9, 0), (0, 0.55)), ((0.3, 0.4), (1, 1))], "Λ": [((0, 1), (0.5, 0)), ((0.5, 0), (1, 1))],
    "Μ": [((0, 1), (0, 0)), ((0, 0), (0.5, 0.6)), ((0.5, 0.6), (1, 0)), ((1, 0), (1, 1))],
    "Ν": [((0, 1), (0, 0)), ((0, 0), (1, 1)), ((1, 1), (1, 0))],
    "Π": [((0, 1), (0, 0)), ((0, 0), (1, 0)), ((1, 0), (1, 1))],
    "Τ": [((0, 0), (1, 0)), ((0.5, 0), (0.5, 1))], "Γ": [((0, 1), (0, 0)), ((0, 0), (0.9, 0))],
    "Σ": [((1, 0), (0, 0)), ((0, 0), (0.5, 0.5)), ((0.5, 0.5), (0, 1)), ((0, 1), (1, 1))], "Ο": []}
FRAGMENTS = {"1": (288, 224), "2": (352, 256), "a": (256, 192)}  # height, width; the real are ~8000 x 6000 and more
VESUVIUS_SLICES = 10  # the real 65


def _writing(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Where the ink lies: rows of Greek capitals 11-15 pixels high in strokes 2-3 pixels wide, with gaps."""
    from PIL import Image, ImageDraw

    height, width = shape
    page = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(page)
    size, stroke = rng.uniform(11, 15), int(rng.integers(2, 4))
    y = rng.uniform(8, 20)
    while y + size < height - 8:
        x = rng.uniform(6, 16)
        while x + size < width - 6:
            letter = str(rng.choice(list(GLYPHS)))
            if rng.random() < 0.85:  # some letters have flaked off
                box = (x, y, x + 0.8 * size, y + size)
                if not GLYPHS[letter]:
                    draw.ellipse(box, outline=255, width=stroke)
                for (x0, y0), (x1, y1) in GLYPHS[letter]:
                    draw.line([(x + x0 * 0.8 * size, y + y0 * size), (x + x1 * 0.8 * size, y + y1 * size)],
                              fill=255, width=stroke)
            x += size * (rng.uniform(1.1, 1.35) + (0.8 if rng.random() < 0.15 else 0.0))
        y += size * rng.uniform(1.6, 1.9)
    return np.array(page) > 0


def _save_tif16(path: Path, values: np.ndarray) -> None:
    """A 16-bit greyscale TIFF, as the surface volume slices are."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(values, 0, 65535).astype(np.uint16)).save(path)


def vesuvius(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """vesuvius-challenge-ink-detection: train/1/ and train/2/ (fragments 8181 x 6330 and 14830 x 9506
    pixels) each hold surface_volume/00.tif ... 64.tif (16-bit slices of the X-ray volume around the papyrus
    surface), mask.png (where the fragment is), inklabels.png (ink, 0/255), inklabels_rle.csv (Id the
    fragment's name, Predicted the ROW-major RLE of inklabels: pixel 2 is the second of the first row) and
    ir.png (the infrared photograph the labels were drawn from). prepare.py copies train/1 and train/2 and
    makes raw fragment 3 the test fragment `a`: test/a/ gets its surface_volume/ and mask.png only; the answers
    (private/inklabels_rle.csv: Id `a`, Predicted, width, height) are its RLE, sample_submission.csv is `a,1 1
    5 1`; F0.5 of the ink pixels, per fragment, averaged. Here 10 slices, fragments 288 x 224, 352 x 256 and
    256 x 192 (height x width, taller than wide as the real ones): an irregular papyrus outline with a few
    holes, a sheet whose surface lies at a depth that wanders over the fragment, horizontal fibres on top of
    vertical ones, and ink a little denser than papyrus on the surface, faint next to the fibres and noise;
    in the infrared photograph the ink is plainly dark."""
    for name, shape in FRAGMENTS.items():
        part = "test" if name == "a" else "train"
        where = folder / part / name
        outline = (1 - np.hypot(((np.arange(shape[1]) + 0.5) / shape[1] - 0.5) / 0.46,
                                ((np.arange(shape[0])[:, None] + 0.5) / shape[0] - 0.5) / 0.47)
                   + 0.18 * _smooth(rng, shape, 40) > 0) & (_smooth(rng, shape, 8) > -2.6)
        ink = _writing(rng, shape) & outline
        surface = 4.0 + _smooth(rng, shape, 60)
        rows, columns = np.mgrid[0:shape[0], 0:shape[1]]
        across = np.sin(2 * np.pi * rows / rng.uniform(4, 6) + 2 * _smooth(rng, shape, 30))
        down = np.sin(2 * np.pi * columns / rng.uniform(4, 6) + 2 * _smooth(rng, shape, 30))
        fading = ink * (0.8 + 0.2 * _smooth(rng, shape, 25))
        for z in range(VESUVIUS_SLICES):
            sheet = 1 / (1 + np.exp(-3 * (z - surface))) / (1 + np.exp(-3 * (surface + 3.5 - z)))
            values = (9000 + 15000 * sheet + 2500 * sheet * np.where(z < surface + 1.7, across, down)
                      + 4500 * fading * np.exp(-(((z - surface - 0.3) / 0.9) ** 2)) + rng.normal(0, 1500, shape))
            _save_tif16(where / "surface_volume" / f"{z:02d}.tif",
                        np.where(outline, values, rng.normal(7000, 900, shape)))
        save_image(where / "mask.png", outline * 255.0)
        if part == "test":
            answers = pd.DataFrame({"Id": ["a"], "Predicted": [rle.encode(ink, order="C")], "width": [shape[1]],
                                    "height": [shape[0]]})
            continue
        save_image(where / "inklabels.png", ink * 255.0)
        pd.DataFrame({"Id": [name], "Predicted": [rle.encode(ink, order="C")]}).to_csv(
            where / "inklabels_rle.csv", index=False)
        photo = 165 + 18 * across - 110 * fading + rng.normal(0, 6, shape)
        save_image(where / "ir.png", np.where(outline, photo, 0.0))
    pd.DataFrame({"Id": ["a"], "Predicted": ["1 1 5 1"]}).to_csv(folder / "sample_submission.csv", index=False)
    return answers


# --- bms-molecular-translation ---------------------------------------------------------------------------

GROUPS = {"OH": ("O", 1), "SH": ("S", 1), "NH2": ("N", 2), "F": ("F", 0), "Cl": ("Cl", 0), "Br": ("Br", 0),
          "I": ("I", 0)}  # the drawn label of a group on a chain's or a ring's end: its element, its hydrogens


def _runs(atoms: list[int]) -> str:
    """`1-5,7`: atom numbers with consecutive ones joined, as InChI's hydrogen layer writes them."""
    spans: list[list[int]] = []
    for atom in atoms:
        if spans and atom == spans[-1][1] + 1:
            spans[-1][1] = atom
        else:
            spans.append([atom, atom])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _inchi(ring: bool, carbons: int, group: str | None) -> str:
    """The standard InChI of a straight chain of `carbons` (a benzene ring when `ring`, `carbons` then 6, or 7
    with a methyl) ending in `group` (a GROUPS label, or None)."""
    element, on_group = GROUPS[group] if group else ("", 0)
    if ring and carbons == 7:  # toluene
        connection, hydrogens = "1-7-5-3-2-4-6-7", {1: [2, 3, 4, 5, 6], 3: [1]}
    elif ring and group:
        connection, hydrogens = "7-6-4-2-1-3-5-6", {1: [1, 2, 3, 4, 5]}
    elif ring:
        connection, hydrogens = "1-2-4-6-5-3-1", {1: [1, 2, 3, 4, 5, 6]}
    elif group:  # numbered from the methyl end, the group last
        connection = "-".join(str(k) for k in range(1, carbons + 2))
        hydrogens = {3: [1], 2: list(range(2, carbons + 1))}
    else:  # an alkane numbers its two ends 1 and 2, their neighbours 3 and 4, and so on inwards
        connection = "-".join(str(2 * p + 1 if p <= (carbons - 1) / 2 else 2 * (carbons - 1 - p) + 2)
                              for p in range(carbons))
        hydrogens = {3: [1, 2], 2: list(range(3, carbons + 1))}
    if on_group:
        hydrogens.setdefault(on_group, []).append(carbons + 1)  # the group's atom comes after the carbons
    total = sum(count * len(atoms) for count, atoms in hydrogens.items())
    formula = f"C{carbons if carbons > 1 else ''}H{total}{element}"
    layer = ",".join(f"{_runs(sorted(atoms))}H{count if count > 1 else ''}"
                     for count, atoms in sorted(hydrogens.items()) if atoms)
    return f"InChI=1S/{formula}/c{connection}/h{layer}"


def _molecule_picture(rng: np.random.Generator, ring: bool, carbons: int, group: str | None) -> np.ndarray:
    """A skeletal formula, black on white as the competition's images: a zigzag of bonds with a vertex per carbon
    (or a hexagon with three inner double bonds), the end group's label upright at its end, the drawing turned
    to any angle, scaled to a canvas of 100-128 x 80-110 pixels, with salt-and-pepper specks."""
    from PIL import Image, ImageDraw, ImageFont

    if ring:
        turn = np.radians(90 + 60 * np.arange(6))
        points = list(np.column_stack([np.cos(turn), np.sin(turn)]))
        bonds = [(k, (k + 1) % 6) for k in range(6)]
        if carbons == 7 or group:
            points.append(points[0] * 2)
            bonds.append((0, 6))
    else:
        points = [np.array([0.866 * k, 0.5 * (k % 2)]) for k in range(carbons + (group is not None))]
        bonds = [(k, k + 1) for k in range(len(points) - 1)]
    angle = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = np.array(points) @ rotation.T
    width, height = int(rng.integers(100, 129)), int(rng.integers(80, 111))
    extent = np.ptp(points, axis=0) + 1e-9
    scale = min(15.0, (width - 30) / extent[0], (height - 30) / extent[1])
    points = (points - points.min(axis=0) - extent / 2) * scale + [width / 2, height / 2]
    picture = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(picture)
    line = int(rng.integers(1, 3))
    for a, b in bonds:
        draw.line([tuple(points[a]), tuple(points[b])], fill=0, width=line)
    if ring:  # the inner line of each double bond, shortened towards the ring's centre
        centre = points[:6].mean(axis=0)
        for a, b in bonds[0:6:2]:
            inner = [centre + 0.75 * (points[q] - centre) for q in (a, b)]
            draw.line([tuple(inner[0] + 0.15 * (inner[1] - inner[0])), tuple(inner[1] + 0.15 * (inner[0] - inner[1]))],
                      fill=0, width=line)
    if group:
        font = ImageFont.load_default(size=int(rng.integers(10, 13)))
        left, top, right, bottom = draw.textbbox((0, 0), group, font=font)
        spot = points[-1] - [(left + right) / 2, (top + bottom) / 2]
        draw.rectangle([spot[0] + left - 1, spot[1] + top - 1, spot[0] + right + 1, spot[1] + bottom + 1], fill=255)
        draw.text(tuple(spot), group, fill=0, font=font)
    pixels = np.where(np.array(picture) < 128, 0, 255)  # the label's anti-aliased edges made black or white
    pixels[rng.random(pixels.shape) < rng.uniform(0.001, 0.005)] = 0
    return pixels


def molecules(folder: Path, rng: np.random.Generator) -> pd.DataFrame:
    """bms-molecular-translation: train_labels.csv (image_id 12 hex, InChI `InChI=1S/<formula>/c<connections>/
    h<hydrogens>...`), train/ and test/<id[0]>/<id[1]>/<id[2]>/<image_id>.png (black-on-white drawings of the
    molecules, a few hundred pixels a side, some turned, with noise), extra_approved_InChIs.csv (a column
    InChI of molecules without images). prepare.py splits train_labels.csv (train_test_split, test_size 0.2,
    random_state 0), copies each half's images to train/ or test/ in the same nesting and writes the test rows
    (image_id, InChI) as the answers, sample_submission.csv the same ids with `InChI=1S/H2O/h1H2`; the mean
    Levenshtein distance between the strings. Here 500 drawings of 72 molecules with exact standard InChIs:
    straight chains of 1-8 carbons ending in OH, SH, NH2, F, Cl, Br or I, alkanes of 2-8 carbons, benzene,
    toluene and benzene with one of those groups; the chain's length is the zigzag's vertex count and the group
    its label, so the formula, the connection and hydrogen layers all follow from the drawing. The extra
    InChIs are the chains of 9-12 carbons, never drawn."""
    from sklearn.model_selection import train_test_split

    species = ([(False, n, None) for n in range(2, 9)] + [(False, n, g) for n in range(1, 9) for g in GROUPS]
               + [(True, 6, None), (True, 7, None)] + [(True, 6, g) for g in GROUPS])
    drawn = [species[k] for k in rng.integers(0, len(species), 500)]
    labels = pd.DataFrame({"image_id": hex_ids(rng, len(drawn), 12), "InChI": [_inchi(*s) for s in drawn]})
    pictures = dict(zip(labels["image_id"], drawn))
    train, test = train_test_split(labels, test_size=0.2, random_state=0)
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train_labels.csv", index=False)
    for part, table in (("train", train), ("test", test)):
        for image_id in table["image_id"]:
            save_image(folder / part / image_id[0] / image_id[1] / image_id[2] / f"{image_id}.png",
                       _molecule_picture(rng, *pictures[image_id]))
    test.assign(InChI="InChI=1S/H2O/h1H2").to_csv(folder / "sample_submission.csv", index=False)
    extra = [_inchi(False, n, g) for n in range(9, 13) for g in [None, *GROUPS]]
    pd.DataFrame({"InChI": rng.permutation(extra)}).to_csv(folder / "extra_approved_InChIs.csv", index=False)
    return test.reset_index(drop=True)


LAYOUTS = {
    "smartphone-decimeter-2022": ("drive/phone folders of GNSS logs; positions per trip and epoch",
                                  "custom:mean_p50_p95_haversine_m", smartphone),
    "nfl-player-contact-detection": ("tracking + helmet tables; every player pair and the ground per step",
                                     "mcc", nfl_contacts),
    "google-research-identify-contrails-reduce-global-warming": ("record folders of .npy band stacks; '-' RLE",
                                                                 "dice_global", contrails),
    "vesuvius-challenge-ink-detection": ("TIFF slice stacks per fragment; row-major RLE of one test fragment",
                                         "custom:mean_f0.5_per_fragment", vesuvius),
    "bms-molecular-translation": ("PNGs nested by id characters; InChI strings", "levenshtein_mean", molecules),
}
