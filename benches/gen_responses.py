#!/usr/bin/env python3
"""Writes N realistic cvp.CommandResponseMessage values as JSON Lines.

Deterministic for a seed: a fleet of vehicles answering a mix of commands
(locate, door lock, climate, diagnostics, errors...), the shape of traffic
the original tool decoded. Usage: gen_responses.py N [SEED] > responses.jsonl
"""
import base64
import json
import random
import sys
import uuid

SUBTYPES = [
    "ENGINE_START", "ENGINE_STOP", "DOOR_LOCK", "DOOR_UNLOCK", "HORN_AND_LIGHTS",
    "CLIMATE_CONTROL", "LOCATE_VEHICLE", "SET_GEOFENCE", "SPEED_LIMIT", "IMMOBILIZER",
    "OTA_UPDATE", "CONFIG_UPDATE", "DIAGNOSTICS_REQUEST", "CHARGE_CONTROL",
]
DOORS = ["FRONT_LEFT", "FRONT_RIGHT", "REAR_LEFT", "REAR_RIGHT", "TAILGATE"]


def ts(rng):
    s = 1_714_557_600 + rng.randrange(0, 30 * 86400)
    ms = rng.randrange(0, 1000)
    return f"2024-05-{1 + (s - 1_714_521_600) // 86400:02d}T{(s // 3600) % 24:02d}:{(s // 60) % 60:02d}:{s % 60:02d}.{ms:03d}Z"


def payload(rng, subtype):
    if subtype == "ENGINE_START":
        return "engine_start", {"started_at": ts(rng), "cabin_temp_c": rng.randrange(-20, 40),
                                "auto_stop_in": f"{rng.randrange(300, 1200)}s"}
    if subtype == "ENGINE_STOP":
        return "engine_stop", {"ran_for": f"{rng.randrange(1, 900)}.{rng.randrange(0, 1000):03d}s"}
    if subtype in ("DOOR_LOCK", "DOOR_UNLOCK"):
        locked = subtype == "DOOR_LOCK"
        return subtype.lower(), {"doors": [{"door": d, "locked": locked, "open": False}
                                           for d in rng.sample(DOORS, rng.randrange(1, 5))],
                                 "alarm_armed": locked}
    if subtype == "HORN_AND_LIGHTS":
        return "horn_and_lights", {"flashes_done": rng.randrange(1, 10), "honks_done": rng.randrange(0, 4)}
    if subtype == "CLIMATE_CONTROL":
        return "climate_control", {"cabin_temp_c": round(rng.uniform(-10, 35), 1), "target_temp_c": 21.5,
                                   "seat_heaters": {"driver": True, "passenger": rng.random() < 0.5}}
    if subtype == "LOCATE_VEHICLE":
        return "locate_vehicle", {"position": {"latitude": rng.uniform(18.4, 19.3), "longitude": rng.uniform(72.7, 73.2),
                                               "altitude_m": round(rng.uniform(0, 600), 1),
                                               "heading_deg": round(rng.uniform(0, 360), 1),
                                               "accuracy_m": rng.randrange(2, 30)},
                                  "fix_time": ts(rng), "satellites": rng.randrange(4, 16),
                                  "speed_kph": round(rng.uniform(0, 90), 1)}
    if subtype == "SET_GEOFENCE":
        return "set_geofence", {"fence_id": f"fence-{rng.randrange(1000)}", "active": True, "fences_in_use": rng.randrange(1, 8)}
    if subtype == "SPEED_LIMIT":
        return "speed_limit", {"applied_kph": rng.choice([80, 100, 120])}
    if subtype == "IMMOBILIZER":
        return "immobilizer", {"engaged": rng.random() < 0.5,
                               "challenge": base64.b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode()}
    if subtype == "OTA_UPDATE":
        return "ota_update", {"state": rng.choice(["DOWNLOADING", "VERIFYING", "INSTALLED"]),
                              "progress_pct": rng.randrange(0, 101), "installed_version": "4.2.1",
                              "bytes_received": str(rng.randrange(0, 250_000_000))}
    if subtype == "CONFIG_UPDATE":
        return "config_update", {"applied_keys": ["telemetry.interval_s", "gps.mode"],
                                 "rejected": {"modem.apn": "read-only"}}
    if subtype == "DIAGNOSTICS_REQUEST":
        return "diagnostics_request", {"dtcs": [{"code": rng.choice(["P0301", "P0420", "U0100", "B1000"]),
                                                 "ecu_address": rng.choice([0x7E0, 0x7E8, 0x720]),
                                                 "active": True, "occurrences": rng.randrange(1, 9),
                                                 "first_seen": ts(rng)}],
                                       "clock_offset_ns": str(rng.randrange(-5_000_000, 5_000_000)),
                                       "ecu_serial": str(rng.randrange(1 << 40, 1 << 48))}
    return "charge_control", {"soc_pct": rng.randrange(10, 100), "minutes_to_full": rng.randrange(0, 600),
                              "energy_delta_wh": str(rng.randrange(-2000, 40000)), "power_kw": round(rng.uniform(0, 11), 2)}


def main():
    n = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    vins = [f"MH12VF{1000 + i:04d}" for i in range(500)]
    out = sys.stdout
    for _ in range(n):
        subtype = rng.choice(SUBTYPES)
        msg = {
            "message_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "correlation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "vehicle_id": rng.choice(vins),
            "type": "COMMAND_RESPONSE",
            "subtype": subtype,
            "priority": rng.choice(["NORMAL", "HIGH"]),
            "provisioning_state": "ACTIVE",
            "version": 3,
            "time_stamp": ts(rng),
            "packet_status": "COMPLETE",
        }
        if rng.random() < 0.08:
            msg["return_code"] = rng.choice(["REJECTED", "VEHICLE_BUSY", "TIMEOUT"])
            msg["error"] = {"code": str(-rng.randrange(1, 500)), "message": "vehicle did not answer in time",
                            "retry_after": "30s"}
        else:
            msg["return_code"] = "SUCCESS"
            key, body = payload(rng, subtype)
            msg[key] = body
        out.write(json.dumps(msg, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
