#!/bin/sh
# Installs the Causeway VM agent as a systemd service. POSIX sh; running it again is fine.
# It fetches nothing itself: Node.js must be there already, and the package comes as a local
# tarball (npm pack) or is already installed. (npm fetches the package's dependencies from its
# registry unless the tarball bundles them.)
set -eu

PROG=install.sh
UNIT_NAME=causeway-agent.service
DEFAULT_BIN=/usr/local/bin/causeway

usage() {
	cat <<'EOF'
Usage: install.sh [options] [./causeway-X.Y.Z.tgz]

Installs the Causeway agent on this host as the systemd service causeway-agent:
  - checks it runs as root, on a systemd host, with Node.js 20 or later;
  - installs the causeway package from the local tarball given (npm install -g, which
    fetches its dependencies unless the tarball bundles them), or uses the causeway
    already on PATH when none is given;
  - creates the system user causeway, /etc/causeway (mode 0750) and writes the join token
    to /etc/causeway/join-token (mode 0600, owned by causeway);
  - installs /etc/systemd/system/causeway-agent.service, reloads systemd, and enables and
    starts the service (once /etc/causeway/agent.yaml exists).

Options:
  --token-file FILE  read the join token (causeway token create) from FILE ("-": stdin).
                     Without it, the token is read from stdin when stdin is not a
                     terminal; when none is given, an installed token is kept.
  --config FILE      install FILE as /etc/causeway/agent.yaml (mode 0640).
  --no-start         enable the service but do not start it now (it starts at boot).
  --root DIR         install under DIR instead of / (packaging, tests): every path is
                     prefixed with DIR; no root needed; useradd, chown and systemctl are
                     skipped; a tarball goes to DIR/usr/local.
  -h, --help         show this help.
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

ROOT=
TOKEN_FILE=
CONFIG_FILE=
PACKAGE=
START=yes
while [ $# -gt 0 ]; do
	case $1 in
		-h | --help) usage; exit 0 ;;
		--token-file | --config | --root)
			[ $# -ge 2 ] || usage_error "$1 needs a value"
			case $1 in
				--token-file) TOKEN_FILE=$2 ;;
				--config) CONFIG_FILE=$2 ;;
				--root) ROOT=$2 ;;
			esac
			shift 2 ;;
		--token-file=*) TOKEN_FILE=${1#*=}; shift ;;
		--config=*) CONFIG_FILE=${1#*=}; shift ;;
		--root=*) ROOT=${1#*=}; shift ;;
		--no-start) START=no; shift ;;
		--) shift; break ;;
		-*) usage_error "unknown option $1" ;;
		*)
			[ -z "$PACKAGE" ] || usage_error "one package tarball at most ($PACKAGE, $1)"
			PACKAGE=$1; shift ;;
	esac
done
[ $# -eq 0 ] || usage_error "unexpected argument $1"

HERE=$(cd "$(dirname "$0")" && pwd)
UNIT_SOURCE=$HERE/$UNIT_NAME
[ -f "$UNIT_SOURCE" ] || die "$UNIT_SOURCE is missing: run install.sh from the directory it came in"

if [ -n "$ROOT" ]; then
	[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
	ROOT=$(cd "$ROOT" && pwd)
	[ "$ROOT" != / ] || ROOT=
fi
# In --root mode nothing outside DIR is touched: no users, owners or systemd.
skipped() { say "skipped (--root): $*"; }
DRY=no
[ -z "$ROOT" ] || DRY=yes

# --- the host ------------------------------------------------------------------------------

if [ "$DRY" = no ]; then
	[ "$(id -u)" -eq 0 ] || die "run as root (sudo sh install.sh ...): it creates a user and a systemd service"
	# sd_booted(3): systemd is the running init exactly when this directory exists.
	{ [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; } ||
		die "this host does not run systemd; the agent can still be run as: causeway agent --config /etc/causeway/agent.yaml"
fi

need_node() {
	cat >&2 <<EOF
$PROG: the Causeway agent needs Node.js 20 or later; $1.
  Debian 13 (trixie) and later:  apt-get install nodejs npm
  Debian 12 and older, Ubuntu:   the NodeSource packages, see
                                 https://github.com/nodesource/distributions
                                 (then: apt-get install nodejs)
  Then run $PROG again. It installs nothing from the network itself.
EOF
	exit 1
}
command -v node >/dev/null 2>&1 || need_node "node is not on PATH"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || need_node "node does not run"
case $NODE_MAJOR in '' | *[!0-9]*) need_node "node does not say its version" ;; esac
[ "$NODE_MAJOR" -ge 20 ] || need_node "this is node $(node --version)"

# --- the package ---------------------------------------------------------------------------

BIN=
if [ -n "$PACKAGE" ]; then
	[ -f "$PACKAGE" ] || die "$PACKAGE: no such file (the tarball npm pack writes, causeway-X.Y.Z.tgz)"
	case $PACKAGE in /*) ;; *) PACKAGE=$(pwd)/$PACKAGE ;; esac
	command -v npm >/dev/null 2>&1 || need_node "npm is not on PATH (it installs the package)"
	if [ "$DRY" = yes ]; then
		say "installing $PACKAGE under $ROOT/usr/local"
		npm install --global --prefix "$ROOT/usr/local" --no-audit --no-fund "$PACKAGE" >/dev/null
		BIN=$DEFAULT_BIN
	else
		say "installing $PACKAGE"
		npm install --global --no-audit --no-fund "$PACKAGE" >/dev/null
		BIN=$(npm prefix --global)/bin/causeway
	fi
elif [ "$DRY" = yes ]; then
	# The image's own path, not wherever this host has causeway.
	BIN=$DEFAULT_BIN
elif BIN=$(command -v causeway 2>/dev/null); then
	say "causeway is installed ($BIN): no package to install"
else
	die "causeway is not installed: give the package tarball (npm pack in a checkout): sh $0 ./causeway-X.Y.Z.tgz"
fi
case $BIN in
	/*) ;;
	*) die "causeway resolves to $BIN, not an absolute path" ;;
esac
case $BIN in *[!A-Za-z0-9/._+-]*) die "the path $BIN has characters a unit's ExecStart would need quoted" ;; esac
[ "$DRY" = yes ] || [ -x "$BIN" ] || die "$BIN is not executable"

# --- user, directories, token --------------------------------------------------------------

if [ "$DRY" = yes ]; then
	skipped "useradd causeway"
elif id causeway >/dev/null 2>&1; then
	say "user causeway exists"
else
	NOLOGIN=/usr/sbin/nologin
	[ -x "$NOLOGIN" ] || NOLOGIN=/sbin/nologin
	[ -x "$NOLOGIN" ] || NOLOGIN=/bin/false
	useradd --system --user-group --home-dir /var/lib/causeway --no-create-home \
		--shell "$NOLOGIN" --comment "Causeway agent" causeway
	say "created system user causeway"
fi

# own OWNER PATH: chown, except in --root mode.
own() { [ "$DRY" = yes ] || chown "$1" "$2"; }

# A directory with its mode and owner, whether it existed or not.
directory() {
	mkdir -p "$ROOT$1"
	chmod "$2" "$ROOT$1"
	own "$3" "$ROOT$1"
}

# install_file SOURCE TARGET MODE OWNER: written beside the target, then renamed over it,
# so a reader never sees half a file. CHANGED says whether the content is new.
CHANGED=no
install_file() {
	tmp=$ROOT$2.tmp.$$
	(umask 077 && cat -- "$1" >"$tmp") || { rm -f "$tmp"; die "cannot write $ROOT$2"; }
	chmod "$3" "$tmp"
	own "$4" "$tmp"
	cmp -s "$tmp" "$ROOT$2" 2>/dev/null || CHANGED=yes
	mv -f "$tmp" "$ROOT$2"
}

directory /etc/causeway 0750 root:causeway
directory /var/lib/causeway 0700 causeway:causeway
mkdir -p "$ROOT/etc/systemd/system"

# The join token: never echoed, never in an argument list (ps), only moved through files.
TOKEN_TMP=$ROOT/etc/causeway/.join-token.in.$$
trap 'rm -f "$TOKEN_TMP"' EXIT
: >"$TOKEN_TMP"
chmod 0600 "$TOKEN_TMP"
if [ -n "$TOKEN_FILE" ] && [ "$TOKEN_FILE" != - ]; then
	[ -r "$TOKEN_FILE" ] || die "--token-file $TOKEN_FILE cannot be read"
	cat -- "$TOKEN_FILE" >"$TOKEN_TMP"
elif [ "$TOKEN_FILE" = - ] || [ ! -t 0 ]; then
	cat >"$TOKEN_TMP"
fi
if [ -s "$TOKEN_TMP" ]; then
	token=$(cat -- "$TOKEN_TMP")
	# One line, cwjt1.<payload>.<mac> in base64url: anything else is some other file.
	case $token in
		*[!A-Za-z0-9._-]* | cwjt1.*.*.* | cwjt1..* | *.) token_ok=no ;;
		cwjt1.?*.?*) token_ok=yes ;;
		*) token_ok=no ;;
	esac
	[ "$token_ok" = yes ] || die "the token given is not a join token (one line cwjt1.<payload>.<mac>, from: causeway token create); its contents are not shown"
	printf '%s\n' "$token" >"$TOKEN_TMP"
	unset token
	install_file "$TOKEN_TMP" /etc/causeway/join-token 0600 causeway:causeway
	say "join token written to /etc/causeway/join-token"
elif [ -s "$ROOT/etc/causeway/join-token" ]; then
	say "no join token given: keeping /etc/causeway/join-token"
else
	die "no join token: give one with --token-file FILE or on stdin (causeway token create on the gateway)"
fi

if [ -n "$CONFIG_FILE" ]; then
	[ -r "$CONFIG_FILE" ] || die "--config $CONFIG_FILE cannot be read"
	install_file "$CONFIG_FILE" /etc/causeway/agent.yaml 0640 root:causeway
	say "agent config written to /etc/causeway/agent.yaml"
fi

# The sandbox leaves only the state directory writable; the agent's own default (a directory
# beside its config) would be read-only.
if [ -f "$ROOT/etc/causeway/agent.yaml" ]; then
	grep -Eq "^dataDir:[[:space:]]*[\"']?/var/lib/causeway/?[\"']?[[:space:]]*(#.*)?$" "$ROOT/etc/causeway/agent.yaml" ||
		warn "/etc/causeway/agent.yaml should say dataDir: /var/lib/causeway (the one directory the service may write)"
	grep -Eq '^joinTokenFile:' "$ROOT/etc/causeway/agent.yaml" ||
		warn "/etc/causeway/agent.yaml names no joinTokenFile (the token is in /etc/causeway/join-token)"
fi

# --- the unit ------------------------------------------------------------------------------

UNIT_TMP=$ROOT/etc/systemd/system/.$UNIT_NAME.in.$$
trap 'rm -f "$TOKEN_TMP" "$UNIT_TMP"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$BIN|" "$UNIT_SOURCE" >"$UNIT_TMP"
install_file "$UNIT_TMP" "/etc/systemd/system/$UNIT_NAME" 0644 root:root
say "unit written to /etc/systemd/system/$UNIT_NAME (ExecStart=$BIN)"

if [ "$DRY" = yes ]; then
	now=
	[ "$START" = no ] || now='--now '
	skipped "systemctl daemon-reload; systemctl enable $now$UNIT_NAME"
	exit 0
fi
systemctl daemon-reload
if [ "$START" = no ]; then
	systemctl enable "$UNIT_NAME"
	say "enabled $UNIT_NAME; not started (--no-start): systemctl start $UNIT_NAME"
elif [ ! -f /etc/causeway/agent.yaml ]; then
	systemctl enable "$UNIT_NAME"
	say "enabled $UNIT_NAME; not started: write /etc/causeway/agent.yaml (or pass --config FILE), then: systemctl start $UNIT_NAME"
else
	ACTIVE=no
	systemctl is-active --quiet "$UNIT_NAME" && ACTIVE=yes
	systemctl enable --now "$UNIT_NAME"
	if [ "$ACTIVE" = yes ] && { [ "$CHANGED" = yes ] || [ -n "$PACKAGE" ]; }; then
		# It was running the previous package, unit, config or token.
		systemctl try-restart "$UNIT_NAME"
		say "restarted $UNIT_NAME"
	fi
	say "$UNIT_NAME is running: journalctl -u $UNIT_NAME"
fi
