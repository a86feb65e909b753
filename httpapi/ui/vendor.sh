#!/usr/bin/env bash
# Vendors the graph-drawing libraries of the web page into static/vendor/,
# so that users of registryd need no build step and no network: the files
# are committed and embedded in the binary.
#
#   httpapi/ui/vendor.sh                       # the pinned versions below
#   CYTOSCAPE=3.36.0 httpapi/ui/vendor.sh      # another version
#
# It installs the packages with npm into a temporary directory, copies
# exactly their minified browser builds and licenses, and writes the
# versions, licenses and SHA-256 of what it copied into VENDORED.md. Run it,
# look at the diff, load the page, commit.
#
# cytoscape draws the graph; cytoscape-dagre is its layered ("dagre")
# layout, and since 4.0 its browser build bundles @dagrejs/dagre, so dagre
# is not vendored on its own.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
cytoscape=${CYTOSCAPE:-3.35.0}
cytoscape_dagre=${CYTOSCAPE_DAGRE:-4.0.1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --save-exact \
	"cytoscape@$cytoscape" "cytoscape-dagre@$cytoscape_dagre" >/dev/null

out=$here/static/vendor
rm -rf "$out"
mkdir -p "$out"
cp node_modules/cytoscape/dist/cytoscape.min.js "$out/"
cp node_modules/cytoscape-dagre/dist/cytoscape-dagre.min.js "$out/"
# The builds end with a sourceMappingURL whose map is not vendored: drop it,
# so that a browser's developer tools do not ask the server for it.
sed -i '/^\/\/# sourceMappingURL=/d' "$out"/*.js
cp node_modules/cytoscape/LICENSE "$out/LICENSE.cytoscape"
cp node_modules/cytoscape-dagre/LICENSE "$out/LICENSE.cytoscape-dagre"

field() { node -p "require('./node_modules/$1/package.json').$2"; }
{
	echo "# Vendored files"
	echo
	echo "Written by \`httpapi/ui/vendor.sh\`; do not edit by hand. \`index.html\`"
	echo "loads them in this order; cytoscape-dagre registers its layout with the"
	echo "global \`cytoscape\`, and its build bundles @dagrejs/dagre (its"
	echo "devDependency \`$(field cytoscape-dagre "devDependencies['@dagrejs/dagre']")\`, MIT)."
	echo
	echo "| file | npm package | version | license | sha256 |"
	echo "|---|---|---|---|---|"
	for p in cytoscape cytoscape-dagre; do
		f=$p.min.js
		echo "| \`static/vendor/$f\` | [\`$p\`](https://www.npmjs.com/package/$p) | $(field "$p" version) | $(field "$p" license), \`static/vendor/LICENSE.$p\` | \`$(sha256sum "$out/$f" | cut -d' ' -f1)\` |"
	done
} >"$here/VENDORED.md"
echo "vendored into $out:"
ls -l "$out"
