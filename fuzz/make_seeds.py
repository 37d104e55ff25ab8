#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus, fuzz/seeds/<target>/, from the recorded cases under
tests/fixtures. Run from anywhere; rewrites the seed folders. Seed file names are the
SHA-1 of their content, as libFuzzer names corpus entries, so re-running is stable.

Run a target from fuzz/ with the seeds as a read-only second corpus:
    cargo +nightly fuzz run admission corpus/admission seeds/admission -- -rss_limit_mb=2048 -timeout=10
Targets: settings, trust, mutation, admission (see fuzz_targets/ for each input format)."""

import hashlib
import json
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEEDS = ROOT / "fuzz" / "seeds"
SEP = b"\xff"  # the targets' part separator: never occurs in UTF-8
SA_KEYS = ["role-arn", "audience", "sts-regional-endpoints", "token-expiration", "region"]


PROVIDER = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/abc123"
KEY = "oidc.example.com/abc123"


def statement(effect, condition, action="sts:AssumeRoleWithWebIdentity"):
    return {"Effect": effect, "Principal": {"Federated": PROVIDER}, "Action": action,
            "Condition": condition}


# Operator shapes the fixtures do not show: wildcards, negation, set operators, Deny fences.
TRUST_EXTRA = [
    {"Version": "2012-10-17", "Statement": [statement("Allow", {"StringLike": {
        KEY + ":sub": "system:serviceaccount:pay*:api-?", KEY + ":aud": "sts.amazonaws.com"}})]},
    {"Version": "2012-10-17", "Statement": [
        statement("Allow", {"StringLike": {KEY + ":sub": "system:serviceaccount:*"}}),
        statement("Deny", {"StringNotLike": {KEY + ":sub": "system:serviceaccount:payments:*"}})]},
    {"Version": "2012-10-17", "Statement": [statement("Allow", {
        "ForAnyValue:StringEqualsIgnoreCase": {KEY + ":sub": ["system:serviceaccount:a:b", "x"]},
        "StringEqualsIfExists": {KEY + ":aud": "sts.amazonaws.com"},
        "Null": {KEY + ":amr": "true"}}, action=["sts:AssumeRole*", "sts:TagSession"])]},
    {"Version": "2012-10-17", "Statement": [statement("Allow", {"StringNotEquals": {
        KEY + ":sub": "system:serviceaccount:kube-system:${aws:username}"}})]},
]


def dump(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def request_of(review):
    if isinstance(review, dict) and review.get("kind") == "AdmissionReview":
        return review.get("request") or {}
    return review if isinstance(review, dict) else {}


def main():
    seeds = {"settings": set(), "trust": set(), "mutation": set(), "admission": set()}
    for path in sorted(FIXTURES.glob("*/*.json")):
        case = json.loads(path.read_text())
        settings = case.get("settings", {})
        seeds["settings"].add(dump(settings))
        seeds["admission"].add(path.read_bytes())
        request = request_of(case.get("review"))
        if request:
            seeds["admission"].add(
                dump({"settings": settings, "request": request, "cluster": case.get("cluster", [])})
            )
        if isinstance(settings, dict):
            for document in (settings.get("roleTrustPolicies") or {}).values():
                seeds["trust"].add(document.encode() if isinstance(document, str) else dump(document))
            template = settings.get("trustPolicy")
            if template is not None:
                seeds["trust"].add(template.encode() if isinstance(template, str) else dump(template))
        pod = request.get("object")
        if request.get("kind", {}).get("kind") == "Pod" and pod is not None:
            name = ((pod.get("spec") or {}).get("serviceAccountName") if isinstance(pod, dict) else None) or "default"
            for sa in case.get("cluster", []):
                if (sa.get("metadata") or {}).get("name") != name:
                    continue
                notes = (sa.get("metadata") or {}).get("annotations") or {}
                parts = [dump(pod)]
                for key in SA_KEYS:
                    value = notes.get("eks.amazonaws.com/" + key)
                    if value is None:
                        break
                    parts.append(str(value).encode())
                # Settings selector 0; libFuzzer varies that byte quickly by itself.
                seeds["mutation"].add(b"\x00" + SEP.join(parts))
    for document in TRUST_EXTRA:
        seeds["trust"].add(dump(document))
    for path in sorted((ROOT / "examples").glob("trust-policy*.json")):
        seeds["trust"].add(path.read_bytes())
    for target, items in seeds.items():
        folder = SEEDS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for item in items:
            (folder / hashlib.sha1(item).hexdigest()).write_bytes(item)
        print(f"{target}: {len(items)} seeds")


if __name__ == "__main__":
    main()
