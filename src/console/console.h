#pragma once
// The web console that `reco serve` answers GET / with: plain HTML, CSS and JavaScript (no
// framework, no build step, no CDN), compiled into the binary from src/console/web. The pages
// only hold code; every piece of data comes from the server's JSON API with the bearer token,
// which the login form keeps in the browser tab's sessionStorage (never in a URL or a cookie).

#include <map>
#include <string>
#include <string_view>

namespace reco::console {

// The asset files by path relative to src/console/web ("index.html", "app.js", ...).
std::map<std::string, std::string_view, std::less<>> embedded_files();

}  // namespace reco::console
