"""Complete site configurations for nginx and Apache 2.4 that serve a difusor's ``current``.

HTTPS on 443 with HTTP redirected, ``Cache-Control: no-cache, no-store, must-revalidate`` on
``/json/main.json`` and ``index.html``, one year ``immutable`` for every other file that exists
(their paths name their content) and ``no-store`` on every error (a 404 for a file of the next
cut must never be cached by a CDN), gzip, security headers that still let other sites embed the pages
(``Content-Security-Policy: frame-ancestors *``, never ``X-Frame-Options``), no open-file cache
(so a switch of ``current`` is seen at once), and an access log in combined format followed by
the request time.

``standalone=True`` wraps the site in a whole main configuration (pid, logs, modules) so it
runs with ``nginx -c FILE`` or ``apache2 -f FILE`` alone, as the tests and the simulacro do.

``layout`` is the distribution family: ``debian`` (Debian, Ubuntu: ``/etc/nginx/sites-available``,
``/etc/apache2/sites-available``, logs in ``/var/log/nginx`` and ``${APACHE_LOG_DIR}``, workers as
``www-data``) or ``rhel`` (RHEL, CentOS, Fedora, Rocky, Alma: ``/etc/nginx/conf.d``,
``/etc/httpd/conf.d``, logs in ``/var/log/nginx`` and ``/var/log/httpd``, workers as ``nginx`` or
``apache``). Unless given, the logs go to the distribution's own log folder for the server, which
its package creates, so the configuration passes ``nginx -t`` / ``apachectl configtest`` as it is.
IIS: :mod:`prepcast.difusor.webconf_iis`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from prepcast.difusor.layout import CURRENT
from prepcast.package.layout import CACHE_CONTROL_IMMUTABLE, CACHE_CONTROL_MUTABLE

SECURITY_HEADERS = (
    ("Strict-Transport-Security", "max-age=31536000"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Content-Security-Policy", "frame-ancestors *"),
)
GZIP_TYPES = ("application/json", "text/css", "application/javascript", "text/javascript",
              "image/svg+xml", "text/plain", "text/csv")
SERVERS = ("nginx", "apache", "iis")
LAYOUTS = ("debian", "rhel")


@dataclass(frozen=True)
class Layout:
    """Where a distribution family keeps a web server's files."""

    site_dir: str           # where a site configuration goes
    log_dir: str            # the server's own log folder (created by its package)
    user: str               # the workers' user
    modules: str = ""       # Apache: the modules folder (standalone configurations)


DISTRIBUTIONS: dict[tuple[str, str], Layout] = {
    ("nginx", "debian"): Layout("/etc/nginx/sites-available", "/var/log/nginx", "www-data"),
    ("nginx", "rhel"): Layout("/etc/nginx/conf.d", "/var/log/nginx", "nginx"),
    ("apache", "debian"): Layout("/etc/apache2/sites-available", "${APACHE_LOG_DIR}", "www-data",
                                 "/usr/lib/apache2/modules"),
    ("apache", "rhel"): Layout("/etc/httpd/conf.d", "/var/log/httpd", "apache",
                               "/etc/httpd/modules"),
}
CACHE_CONTROL_ERROR = "no-store"
# statuses whose response is the file itself (or a revalidation of it): only these are cacheable
CACHEABLE_STATUSES = ("200", "206", "304")


@dataclass(frozen=True)
class WebConf:
    root: Path
    server_name: str
    https_listen: str = "443"           # "443", "127.0.0.1:8443"
    http_listen: str = "80"
    cert: Path = Path("/etc/ssl/certs/prep.pem")
    key: Path = Path("/etc/ssl/private/prep.key")
    access_log: Path | None = None      # None: prep.access.log in the distribution's log folder
    error_log: Path | None = None       # None: prep.error.log beside it
    state_dir: Path | None = None       # standalone only: pid, temp files
    run_user: str | None = None         # standalone only: the workers' user (None: the layout's)
    layout: str = "debian"              # "debian" or "rhel"

    @property
    def docroot(self) -> Path:
        return self.root / CURRENT

    @property
    def https_port(self) -> str:
        return self.https_listen.rsplit(":", 1)[-1]

    def redirect_target(self) -> str:
        port = "" if self.https_port == "443" else f":{self.https_port}"
        return f"https://{self.server_name}{port}"


def with_defaults(kind: str, conf: WebConf, *, standalone: bool = False) -> WebConf:
    """``conf`` with the distribution's log folder and workers' user where none was given."""
    if conf.layout not in LAYOUTS:
        raise ValueError(conf.layout)
    if kind == "iis":
        return conf
    layout = DISTRIBUTIONS[(kind, conf.layout)]
    log_dir = layout.log_dir
    if standalone and log_dir.startswith("${"):
        log_dir = "/var/log/apache2"  # run without apache2ctl, which defines APACHE_LOG_DIR
    return replace(
        conf,
        access_log=conf.access_log or Path(f"{log_dir}/prep.access.log"),
        error_log=conf.error_log or Path(f"{log_dir}/prep.error.log"),
        run_user=conf.run_user or layout.user)


def render(kind: str, conf: WebConf, *, standalone: bool = False) -> str:
    if kind == "iis":
        from prepcast.difusor.webconf_iis import iis_web_config

        return iis_web_config(conf)
    conf = with_defaults(kind, conf, standalone=standalone)
    if kind == "nginx":
        site = nginx_site(conf)
        return nginx_main(conf, site) if standalone else site
    if kind == "apache":
        site = apache_site(conf)
        return apache_main(conf, site) if standalone else site
    raise ValueError(kind)


def nginx_site(c: WebConf) -> str:
    sec = "".join(f'        add_header {k} "{v}" always;\n' for k, v in SECURITY_HEADERS)
    mutable = f'        add_header Cache-Control "{CACHE_CONTROL_MUTABLE}" always;\n' + sec
    immutable = '        add_header Cache-Control $prepcast_cache_control always;\n' + sec
    return f"""# prepcast difusor site for {c.server_name}: generated by `prepcast difusor webconf nginx`
# a year `immutable` only for a file actually served; an error (404 for a file of a cut still to
# come) is never cached, or a CDN would keep the 404 for a year
map $status $prepcast_cache_control {{
    "~^({"|".join(CACHEABLE_STATUSES)})$" "{CACHE_CONTROL_IMMUTABLE}";
    default "{CACHE_CONTROL_ERROR}";
}}
log_format prepcast_combined '$remote_addr - $remote_user [$time_local] "$request" '
                             '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                             '$request_time';

server {{
    listen {c.http_listen};
    server_name {c.server_name};
    access_log {c.access_log} prepcast_combined;
    return 301 {c.redirect_target()}$request_uri;
}}

server {{
    listen {c.https_listen} ssl http2;
    server_name {c.server_name};
    ssl_certificate {c.cert};
    ssl_certificate_key {c.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:prep_ssl:10m;

    root {c.docroot};
    index index.html;
    # `current` is switched by renaming a symlink: look it up on every request
    open_file_cache off;
    disable_symlinks off;
    etag on;
    server_tokens off;
    access_log {c.access_log} prepcast_combined;
    error_log {c.error_log};

    gzip on;
    gzip_vary on;
    gzip_min_length 256;
    gzip_comp_level 5;
    gzip_proxied any;
    gzip_types {" ".join(GZIP_TYPES)};

    location = /json/main.json {{
{mutable}    }}
    location = /index.html {{
{mutable}    }}
    location = / {{
{mutable}    }}
    location / {{
{immutable}        try_files $uri =404;
    }}
}}
"""


def nginx_main(c: WebConf, site: str) -> str:
    state = c.state_dir or c.root
    return f"""# standalone nginx configuration: nginx -c THIS_FILE
worker_processes 1;
pid {state}/nginx.pid;
error_log {c.error_log};
daemon off;
user {c.run_user};
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {state}/client_body;
    proxy_temp_path {state}/proxy;
    fastcgi_temp_path {state}/fastcgi;
    uwsgi_temp_path {state}/uwsgi;
    scgi_temp_path {state}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
{_indent(site, 4)}}}
"""


def apache_site(c: WebConf) -> str:
    http_addr = c.http_listen if ":" in c.http_listen else f"*:{c.http_listen}"
    https_addr = c.https_listen if ":" in c.https_listen else f"*:{c.https_listen}"
    sec = "".join(f'    Header always set {k} "{v}"\n' for k, v in SECURITY_HEADERS)
    statuses = ", ".join(f"'{s}'" for s in CACHEABLE_STATUSES)
    return f"""# prepcast difusor site for {c.server_name}: generated by `prepcast difusor webconf apache`
# needs: mod_ssl mod_headers mod_deflate mod_filter mod_alias mod_mime mod_dir mod_log_config
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\" %{{ms}}T" prepcast_combined

<VirtualHost {http_addr}>
    ServerName {c.server_name}
    CustomLog {c.access_log} prepcast_combined
    RedirectMatch permanent ^/(.*)$ {c.redirect_target()}/$1
</VirtualHost>

<VirtualHost {https_addr}>
    ServerName {c.server_name}
    DocumentRoot {c.docroot}
    DirectoryIndex index.html
    SSLEngine on
    SSLCertificateFile {c.cert}
    SSLCertificateKeyFile {c.key}
    SSLProtocol -all +TLSv1.2 +TLSv1.3
    ServerSignature Off
    CustomLog {c.access_log} prepcast_combined
    ErrorLog {c.error_log}
    # `current` is switched by renaming a symlink: no mmap/sendfile of a file being replaced
    EnableMMAP Off
    FileETag MTime Size

    <Directory {c.root}>
        Options FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>

    # a year `immutable` only for a file actually served; errors are never cached
    Header always set Cache-Control "{CACHE_CONTROL_IMMUTABLE}" "expr=%{{REQUEST_STATUS}} in {{{statuses}}}"
    Header always set Cache-Control "{CACHE_CONTROL_ERROR}" "expr=!(%{{REQUEST_STATUS}} in {{{statuses}}})"
    <LocationMatch "^/(index\\.html|json/main\\.json)?$">
        Header always set Cache-Control "{CACHE_CONTROL_MUTABLE}"
    </LocationMatch>
{sec}
    AddType application/json .json
    AddOutputFilterByType DEFLATE {" ".join(GZIP_TYPES)} text/html
</VirtualHost>
"""


_APACHE_MODULES = ("mpm_event", "authz_core", "authz_host", "mime", "dir", "alias", "headers",
                   "deflate", "filter", "ssl", "socache_shmcb")


def apache_main(c: WebConf, site: str) -> str:
    state = c.state_dir or c.root
    modules = DISTRIBUTIONS[("apache", c.layout)].modules
    mods = "".join(f"LoadModule {m}_module {modules}/mod_{m}.so\n" for m in _APACHE_MODULES)
    http_port = c.http_listen
    https_port = c.https_listen
    return f"""# standalone Apache 2.4 configuration: apache2 -f THIS_FILE -DFOREGROUND
ServerRoot {state}
{mods}PidFile {state}/apache2.pid
ErrorLog {c.error_log}
LogLevel warn
Mutex file:{state}
DefaultRuntimeDir {state}
ServerName {c.server_name}
User {c.run_user}
Group {c.run_user}
Listen {http_port}
Listen {https_port}
TypesConfig /etc/mime.types
SSLSessionCache shmcb:{state}/ssl_scache(512000)
ServerTokens Prod
{site}"""


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))
