"""`make audit`: known vulnerabilities in the installed packages (pip-audit) and
risky constructs in our own code (bandit).

Fails on any finding that .ci/audit-exceptions.toml does not accept with a
reason. pip-audit needs a vulnerability database over the network (PyPI's JSON
API, or OSV as a fallback); when neither answers, the audit says so plainly and
does not fail for that reason alone: bandit still runs and still fails on
findings, and the dependency audit runs wherever the service is reachable.
"""

import json
import subprocess  # nosec B404: runs the audit tools installed in our own venv
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXCEPTIONS = ROOT / ".ci" / "audit-exceptions.toml"
OFFLINE_MARKERS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out")
BANDIT_TARGETS = ["consult", "workers"]


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603  # nosec B603: fixed commands, no shell
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )


def pip_audit(service: str) -> tuple[list[dict] | None, str]:
    """The audited dependencies, or None with the reason when the service is
    out of reach."""
    result = run(
        [
            str(BIN / "pip-audit"),
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--timeout",
            "15",
            "--vulnerability-service",
            service,
            "--format",
            "json",
        ]
    )
    if any(marker in result.stderr for marker in OFFLINE_MARKERS):
        return None, f"{service}: not reachable ({result.stderr.strip().splitlines()[-1][:200]})"
    try:
        dependencies = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        return None, f"{service}: no answer pip-audit could read (exit {result.returncode})"
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        reason = dependencies[0]["skip_reason"] if dependencies else "no packages"
        return None, f"{service}: could not audit any package ({reason})"
    return dependencies, ""


def audit_dependencies(accepted: list[dict]) -> tuple[list[str], list[str]]:
    """(findings, notes)."""
    notes = []
    for service in ("pypi", "osv"):
        dependencies, why = pip_audit(service)
        if dependencies is not None:
            break
        notes.append(why)
    else:
        notes.append(
            "pip-audit: no vulnerability service is reachable from this machine, so the "
            "installed packages were NOT checked for known vulnerabilities (not a failure)."
        )
        return [], notes
    skipped = [d["name"] for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    notes.append(f"pip-audit ({service}): {audited} packages checked, {len(skipped)} skipped")
    accepted_ids = {entry["id"] for entry in accepted}
    findings = []
    used = set()
    for dependency in dependencies:
        for vuln in dependency.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            if ids & accepted_ids:
                used |= ids & accepted_ids
                continue
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            findings.append(
                f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})"
            )
    notes += [f"exception no longer needed: vulnerability {i}" for i in accepted_ids - used]
    return findings, notes


def audit_code(accepted: list[dict]) -> tuple[list[str], list[str]]:
    result = run([str(BIN / "bandit"), "-r", *BANDIT_TARGETS, "-f", "json", "-q", "--exit-zero"])
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return [f"bandit did not run: {result.stderr.strip()[-500:]}"], []
    allowed = {(entry["test"], entry["file"]) for entry in accepted}
    findings, used = [], set()
    for issue in report["results"]:
        key = (issue["test_id"], str(Path(issue["filename"])))
        if key in allowed:
            used.add(key)
            continue
        findings.append(
            f"{issue['filename']}:{issue['line_number']}: {issue['test_id']} "
            f"({issue['issue_severity'].lower()}) {issue['issue_text']}"
        )
    checked = len(report.get("metrics", {})) - 1  # one entry per file, plus _totals
    notes = [f"bandit: {checked} files checked, {len(used)} accepted kinds of finding"]
    notes += [f"exception no longer needed: bandit {t} in {f}" for t, f in allowed - used]
    return findings, notes


def main() -> int:
    exceptions = tomllib.loads(EXCEPTIONS.read_text())
    code_findings, code_notes = audit_code(exceptions.get("bandit", []))
    dependency_findings, dependency_notes = audit_dependencies(exceptions.get("vulnerability", []))
    for note in dependency_notes + code_notes:
        print(note)
    findings = dependency_findings + code_findings
    if findings:
        where = EXCEPTIONS.relative_to(ROOT)
        print(f"\n{len(findings)} finding(s); fix them or list them with a reason in {where}:")
        for finding in findings:
            print(f"  {finding}")
        return 1
    print("audit: no finding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
