#!/usr/bin/env bash
# Builds BUILD_DIR/banger_<version>_amd64.deb from a finished `mvn package` (banger.jar, lib/, guest/banger-init):
# a jlink'd runtime and jpackage's launchers under /usr/lib/banger, /usr/bin/banger and /usr/bin/bangerd,
# the systemd units bangerd.socket + bangerd.service, man pages generated from the CLI's picocli model and the
# bash completion. `mvn -B package -Pdeb` runs it; by hand: packaging/build-deb.sh BUILD_DIR VERSION [JDK_HOME].
# The CLI's class-data archive is made by the package's postinst, in the installed layout (it names the jars by
# path): postinst runs the banger-class-data launcher, which has the CLI's exact class path.
set -euo pipefail
build=$(readlink -f "$1")
version=$2
jdk=${3:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}
here=$(cd "$(dirname "$0")" && pwd)

deb_version=${version/-/\~}          # 0.1.0-SNAPSHOT -> 0.1.0~SNAPSHOT, which sorts before 0.1.0
app_version=${version%%-*}           # jpackage takes numbers only
deb="$build/banger_${deb_version}_amd64.deb"
work="$build/deb-work"
rm -rf "$work" "$build"/banger_*_amd64.deb
mkdir -p "$work/input/guest"

for f in "$build/banger.jar" "$build/guest/banger-init"; do
    [ -f "$f" ] || { echo "build-deb: $f is missing; run mvn package first" >&2; exit 1; }
done

# The runtime: what jdeps finds in banger and its libraries (java.desktop is commons-compress's and lang3's),
# plus jdk.crypto.ec for TLS to registries; with the JDK's default class-data archive (--generate-cds-archive),
# the base the CLI's own archive sits on. Kept between builds while the JDK and the module list are the same.
modules=java.base,java.desktop,java.management,java.naming,java.net.http,java.sql,jdk.crypto.ec,jdk.net,jdk.unsupported
runtime="$build/deb-runtime"
stamp="$("$jdk/bin/java" -version 2>&1 | tr '\n' ' ') $modules"
if [ ! -f "$runtime.stamp" ] || [ "$(cat "$runtime.stamp")" != "$stamp" ]; then
    rm -rf "$runtime" "$runtime.stamp"
    "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
        --generate-cds-archive --output "$runtime"
    rm -f "$runtime/lib/server/classes_nocoops.jsa"   # only for heaps over 32 GiB
    echo "$stamp" > "$runtime.stamp"
fi

cp "$build/banger.jar" "$work/input/"
cp -r "$build/lib" "$work/input/lib"
cp "$build/guest/banger-init" "$work/input/guest/"

# Launchers. -Dbanger.install=package tells `banger doctor` how banger is installed. The CLI's flags are
# bin/banger's; the daemon's are DaemonLauncher's.
cli_opts='-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off'
cat > "$work/bangerd.properties" <<EOF
main-class=dev.banger.daemon.Bangerd
java-options=-XX:+UseSerialGC -Xss512k -Xms16m -Xmx384m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=48m -Xshare:auto -Dbanger.install=package
EOF
cat > "$work/banger-class-data.properties" <<EOF
main-class=dev.banger.cli.CdsTraining
java-options=-XX:ArchiveClassesAtExit=\$APPDIR/banger-cli.jsa $cli_opts
EOF
"$jdk/bin/jpackage" --type app-image --dest "$work/image" --name banger --app-version "$app_version" \
    --runtime-image "$runtime" --input "$work/input" --main-jar banger.jar --main-class dev.banger.cli.BangerCli \
    --java-options "-XX:SharedArchiveFile=\$APPDIR/banger-cli.jsa $cli_opts -Dbanger.install=package -Dbanger.launcher=/usr/bin/banger" \
    --add-launcher bangerd="$work/bangerd.properties" \
    --add-launcher banger-class-data="$work/banger-class-data.properties"
rm -f "$work/image/banger/lib/"*.png

root="$work/root"
mkdir -p "$root/usr/lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/man/man1" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/doc/banger" "$root/DEBIAN"
cp -a "$work/image/banger" "$root/usr/lib/banger"
# /usr/bin/banger runs the runtime's java itself with what jpackage wrote into the CLI launcher's cfg (class path
# and options, so the class-data archive matches): jpackage's native launcher asks dpkg -S and rpm -qf which
# package owns it at every start, about 0.25 s of CPU per command.
cfg="$root/usr/lib/banger/lib/app/banger.cfg"
classpath=$(sed -n 's/^app\.classpath=\$APPDIR/$app\/lib\/app/p' "$cfg" | paste -sd: -)
options=$(sed -n 's/^java-options=//p' "$cfg" | sed 's/\$APPDIR/$app\/lib\/app/g' | paste -sd' ' -)
main=$(sed -n 's/^app\.mainclass=//p' "$cfg")
cat > "$root/usr/bin/banger" <<EOF
#!/bin/sh
# banger CLI from the Debian package: /usr/lib/banger's own Java runtime, the class path and options of the
# jpackage launcher there (lib/app/banger.cfg), without that launcher's per-start package-manager queries.
app=\$(cd "\$(dirname "\$(readlink -f "\$0")")/../lib/banger" && pwd -P)
exec "\$app/lib/runtime/bin/java" $options -cp "$classpath" $main "\$@"
EOF
chmod 755 "$root/usr/bin/banger"
ln -s ../lib/banger/bin/bangerd "$root/usr/bin/bangerd"
install -m 644 "$here/deb/bangerd.socket" "$here/deb/bangerd.service" "$root/lib/systemd/system/"
install -m 755 "$here/deb/postinst" "$here/deb/prerm" "$here/deb/postrm" "$root/DEBIAN/"

"$jdk/bin/java" -cp "$build/banger.jar" dev.banger.cli.ManPages "$root/usr/share/man/man1"
gzip -9n "$root"/usr/share/man/man1/*.1
BANGER_HOME="$work/home" "$jdk/bin/java" -cp "$build/banger.jar" dev.banger.cli.BangerCli completion \
    > "$root/usr/share/bash-completion/completions/banger"
cp "$here/../README.md" "$root/usr/share/doc/banger/README.md"
gzip -9n "$root/usr/share/doc/banger/README.md"

cat > "$root/DEBIAN/control" <<EOF
Package: banger
Version: $deb_version
Architecture: amd64
Maintainer: banger developers <banger@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6, libgcc-s1, libstdc++6, zlib1g, qemu-system-x86, qemu-utils, e2fsprogs, iproute2, iptables, git, openssh-client
Recommends: debootstrap
Section: admin
Priority: optional
Description: disposable Linux microVMs as developer sandboxes
 banger runs a fresh, hardware-isolated Linux VM with your git repository inside
 (banger vm run -- make test), streams its output and returns its exit code.
 The daemon, bangerd, runs as a systemd service started on the first connection
 to its socket (bangerd.socket). Ships its own Java runtime.
EOF

dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$deb" >/dev/null
rm -rf "$work"
echo "$deb"
