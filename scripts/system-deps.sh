#!/usr/bin/env bash
# Installs the Debian packages the workspace needs beyond the Rust toolchain, when missing:
# - chromium and chromium-driver: the browser tests (WebDriver);
# - libxml2-dev, libxmlsec1-dev, libxmlsec1-openssl, pkg-config, libssl-dev, libclang-dev,
#   clang: the SAML 2.0 bearer grant's xmlsec verifier (feature `saml`, built by
#   `cargo test --workspace` and `cargo clippy --all-features`).
# Needs root or sudo when something is missing; does nothing when all is there.
set -euo pipefail

packages=(chromium chromium-driver libxml2-dev libxmlsec1-dev libxmlsec1-openssl pkg-config
  libssl-dev libclang-dev clang)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages present: ${packages[*]}"
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "cannot install ${missing[*]}: not root and no sudo"; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
