"""A real IMAP server for the inbox tests: Debian's Dovecot, started on a free port with its
own configuration, mail and users in a temporary folder (``.ci/run`` installs it)."""

from __future__ import annotations

import imaplib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DOVECOT = Path("/usr/sbin/dovecot")
PASSWORD = "app-password-1"
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class Imap:
    port: int

    def env(self, user: str, password: str = PASSWORD) -> dict[str, str]:
        return {
            "LEADQ_IMAP_HOST": "127.0.0.1",
            "LEADQ_IMAP_PORT": str(self.port),
            "LEADQ_IMAP_USER": user,
            "LEADQ_IMAP_PASSWORD": password,
            "LEADQ_IMAP_TLS": "none",
        }

    @contextmanager
    def mailbox(self, user: str, folder: str = "INBOX") -> Iterator[imaplib.IMAP4]:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(user, PASSWORD)
        client.select(folder)
        try:
            yield client
        finally:
            client.logout()

    def deliver(self, user: str, *messages: bytes) -> None:
        with self.mailbox(user) as client:
            for raw in messages:
                client.append("INBOX", None, None, raw)

    def count(self, user: str, folder: str) -> int:
        with self.mailbox(user, folder) as client:
            status, data = client.uid("SEARCH", "ALL")
            return len(data[0].split()) if status == "OK" and data[0] else 0


def available() -> str | None:
    """Why the server cannot run here, or None."""
    if not DOVECOT.exists():
        return "Dovecot is not installed (apt install dovecot-imapd; .ci/run installs it)"
    try:
        pwd.getpwnam("dovecot")
    except KeyError:
        return "Dovecot's system user is missing (apt install dovecot-imapd)"
    return None


@contextmanager
def dovecot(users: list[str]) -> Iterator[Imap]:
    """The server, in a folder of its own that its unprivileged processes may enter (pytest's
    temporary folders are private to root)."""
    root = Path(tempfile.mkdtemp(prefix="leadq-imap-"))
    root.chmod(0o755)
    try:
        with _serving(root, users) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _serving(root: Path, users: list[str]) -> Iterator[Imap]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    account = pwd.getpwnam("dovecot")
    for folder in ("run", "state", "mail"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.chown(root / "mail", account.pw_uid, account.pw_gid)
    (root / "users").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}\n" for u in users))
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, uid=account.pw_uid, gid=account.pw_gid, port=port))
    server = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    log = (
                        (root / "dovecot.log").read_text()
                        if (root / "dovecot.log").exists()
                        else ""
                    )
                    raise RuntimeError(f"Dovecot did not start: {log[-2000:]}") from None
                time.sleep(0.1)
        yield Imap(port)
    finally:
        server.terminate()
        server.wait(10)
