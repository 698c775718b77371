"""docker-compose.yml and deploy/ (Prometheus, alerts), checked without a Docker engine.

The compose file is validated against the Compose specification's JSON schema (the copy that
ships inside check-jsonschema: no network), then against Harbor itself: every depends_on target
exists, every queue has a worker, every command is one of the contract's entry points (or a
known third-party image), every variable set for a Harbor process is one the code reads, and
every variable production requires is set. Each check is also run on a broken copy, so it is
known to fail when it should.
"""

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harbor import prod
from harbor.brokers import DEAD_LETTER_QUEUE, QUEUES
from tests.metric_names import ALLOWED_IN_ALERTS, EXPORTER_METRICS, HARBOR_METRICS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "harbor.env.example"

# Third-party images the stack may run, by repository: each is pinned to a tag.
THIRD_PARTY_IMAGES = {"postgres", "rabbitmq", "redis", "mher/flower", "danihodovic/celery-exporter",
                      "prom/prometheus"}
ONE_SHOT_COMMANDS = {"migrate", "setup_periodic_tasks", "setup_rabbitmq", "seed_catalog"}

# Variables that a Harbor container may set although Harbor's code does not read them, and why.
READ_BY_OTHERS_IN_APP = {
    # prometheus_client reads it at import: multiprocess mode, for gunicorn's workers only.
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client (multiprocess mode)",
}
APP_PREFIXES_READ_BY_OTHERS = {
    # The OpenTelemetry SDK reads the standard OTEL_* variables (endpoint, headers, service name).
    "OTEL_": "the OpenTelemetry SDK",
}
# Variables of the third-party containers, by image repository, and who reads them.
THIRD_PARTY_ENV = {
    "postgres": (("POSTGRES_",), "the postgres image's first start (initdb)"),
    "rabbitmq": (("RABBITMQ_DEFAULT_",), "the rabbitmq image's first start (user, password, vhost)"),
    # Flower reads every option as FLOWER_<OPTION>; Celery itself reads CELERY_BROKER_URL.
    "mher/flower": (("FLOWER_", "CELERY_BROKER_URL"), "Flower's options and Celery's broker"),
    # danihodovic/celery-exporter: its options as variables (the prefix differs between versions).
    "danihodovic/celery-exporter": (("CE_", "CELERY_EXPORTER_"), "the exporter's options"),
    "prom/prometheus": ((), ""),
    "redis": (("REDISCLI_AUTH",), "redis-cli (the healthcheck) reads the password from it"),
}
# Long-running services without a healthcheck, and why.
NO_HEALTHCHECK = {"beat": "not a worker (it answers no ping) and serves nothing; restart: unless-stopped"}


# --- Reading the compose file ------------------------------------------------------------------

def load(path=COMPOSE):
    return yaml.safe_load(Path(path).read_text())


def write(tmp_path, compose):
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(compose, sort_keys=False))
    return path


def argv(service):
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {name: ("" if value is None else str(value)) for name, value in env.items()}


def depends_on(service):
    deps = service.get("depends_on") or {}
    return {name: {"condition": "service_started"} for name in deps} if isinstance(deps, list) else deps


def is_app(service):
    return "build" in service  # built from this repo's Dockerfile: a Harbor process


def repository(service):
    image = service.get("image", "")
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def is_one_shot(service):
    return str(service.get("restart", "no")) == "no"


def option(args, *names):
    """The value of a command-line option (`-Q x`, `--queues=x`), or None."""
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def worker_queues(service):
    args = argv(service)
    if args[:4] != ["celery", "-A", "harbor", "worker"]:
        return None
    return [q for q in (option(args, "-Q", "--queues") or "").split(",") if q]


# --- What Harbor's code reads ------------------------------------------------------------------

ENV_METHODS = {"str", "int", "bool", "list", "float", "db", "db_url", "email_url", "url", "json", "dict",
               "tuple", "path", "cache_url", "search_url", "bytes"}


def names_read(path):
    """Environment variable names a Python file reads: env.<type>("X"), env("X"),
    os.environ.get/setdefault/pop("X"), os.environ["X"], os.getenv("X"), "X" in os.environ."""
    names = set()

    def is_environ(node):
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ")

    def const(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Call) and node.args and const(node.args[0]):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "env":
                names.add(const(node.args[0]))
            elif isinstance(func, ast.Attribute):
                owner = func.value
                if func.attr in ENV_METHODS and isinstance(owner, ast.Name) and owner.id == "env":
                    names.add(const(node.args[0]))
                elif func.attr in ("get", "setdefault", "pop") and is_environ(owner):
                    names.add(const(node.args[0]))
                elif func.attr == "getenv" and isinstance(owner, ast.Name) and owner.id == "os":
                    names.add(const(node.args[0]))
        elif isinstance(node, ast.Subscript) and is_environ(node.value) and const(node.slice):
            names.add(const(node.slice))
        elif (isinstance(node, ast.Compare) and const(node.left) and len(node.ops) == 1
              and isinstance(node.ops[0], (ast.In, ast.NotIn)) and is_environ(node.comparators[0])):
            names.add(const(node.left))
    return names


def settings_env_names():
    """Every variable the settings and the platform code (harbor/, not the dev-only devservices)
    read; plus harbor.prod's names, which it reads through a loop."""
    files = sorted(ROOT.glob("harbor/*.py")) + sorted(ROOT.glob("harbor/management/**/*.py"))
    names = set().union(*(names_read(f) for f in files))
    return names | set(prod.REQUIRED) | set(prod.BROKER)


# --- The checks: each returns a list of problems -------------------------------------------------

def check_depends_on(compose):
    services, problems = compose["services"], []
    for name, service in services.items():
        for target, spec in depends_on(service).items():
            if target not in services:
                problems.append(f"{name}: depends_on {target!r}, which is not a service")
                continue
            condition = (spec or {}).get("condition", "service_started")
            if is_one_shot(services[target]) and condition != "service_completed_successfully":
                problems.append(f"{name}: waits for the one-shot {target} with {condition}, "
                                "not service_completed_successfully")
            if condition == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(f"{name}: waits for {target} to be healthy, but it has no healthcheck")
    # No cycle (compose would refuse to start).
    state = {}

    def visit(name, path):
        if state.get(name) == "done" or name not in services:
            return
        if state.get(name) == "visiting":
            problems.append(f"depends_on cycle: {' -> '.join(path + [name])}")
            return
        state[name] = "visiting"
        for target in depends_on(services[name]):
            visit(target, path + [name])
        state[name] = "done"

    for name in services:
        visit(name, [])
    # Every long-running Harbor process starts after all the one-shots succeeded.
    one_shots = [n for n, s in services.items() if is_app(s) and is_one_shot(s)]
    for name, service in services.items():
        if is_app(service) and not is_one_shot(service):
            for one_shot in one_shots:
                if depends_on(service).get(one_shot, {}).get("condition") != "service_completed_successfully":
                    problems.append(f"{name}: does not wait for {one_shot} to complete successfully")
    return problems


def check_restart_and_health(compose):
    problems = []
    for name, service in compose["services"].items():
        restart = str(service.get("restart", "no"))
        args = argv(service)
        if is_app(service) and args[:2] == ["python", "manage.py"]:
            if restart != "no":
                problems.append(f"{name}: a one-shot ({args[2]}) must have restart: \"no\", not {restart}")
            continue
        if restart != "unless-stopped":
            problems.append(f"{name}: long-running, needs restart: unless-stopped (has {restart})")
        if "healthcheck" not in service and name not in NO_HEALTHCHECK:
            problems.append(f"{name}: long-running without a healthcheck")
    return problems


def check_commands(compose):
    """Harbor's services run the contract's entry points; the others are known, pinned images."""
    problems = []
    for name, service in compose["services"].items():
        args = argv(service)
        if is_app(service):
            ok = (args[:2] == ["gunicorn", "harbor.wsgi"]
                  or (worker_queues(service) is not None and option(args, "-Q", "--queues"))
                  or args[:6] == ["celery", "-A", "harbor", "beat", "-S", "django"]
                  or (args[:2] == ["python", "manage.py"] and len(args) > 2 and args[2] in ONE_SHOT_COMMANDS))
            if not ok:
                problems.append(f"{name}: {' '.join(args) or '(no command)'} is not a contract entry point "
                                "(gunicorn harbor.wsgi, celery -A harbor worker -Q <queues>, celery -A harbor "
                                "beat -S django, python manage.py migrate|setup_periodic_tasks|setup_rabbitmq)")
            continue
        image, repo = service.get("image", ""), repository(service)
        if repo not in THIRD_PARTY_IMAGES:
            problems.append(f"{name}: image {image!r} is neither Harbor's build nor a known one")
        elif image == repo or image.endswith(":latest"):
            problems.append(f"{name}: image {image!r} is not pinned to a version")
        if repo == "rabbitmq" and not image.endswith("-management"):
            problems.append(f"{name}: {image} has no management plugin (setup_rabbitmq sets its policy through it)")
    return problems


def check_queues(compose):
    """A worker for every queue, no worker on a queue that does not exist, each worker's healthcheck
    pings its own node name, and the exporter measures every queue and the dead letters."""
    problems, consumed = [], set()
    for name, service in compose["services"].items():
        queues = worker_queues(service) if is_app(service) else None
        if queues is None:
            continue
        consumed.update(queues)
        for queue in set(queues) - set(QUEUES):
            problems.append(f"{name}: consumes {queue!r}, which is not a Harbor queue {QUEUES}")
        node = (option(argv(service), "-n", "--hostname") or "").split("@")[0]
        ping = " ".join(argv({"command": (service.get("healthcheck") or {}).get("test", [])}))
        if not node:
            problems.append(f"{name}: a worker without --hostname <name>@%h (its liveness check needs it)")
        elif f"inspect ping -d {node}@$$HOSTNAME" not in ping and f"inspect ping -d {node}@$HOSTNAME" not in ping:
            problems.append(f"{name}: its healthcheck does not ping {node}@$HOSTNAME")
    for queue in QUEUES:
        if queue not in consumed:
            problems.append(f"no worker consumes the {queue!r} queue")
    exporters = [s for s in compose["services"].values() if repository(s) == "danihodovic/celery-exporter"]
    if not exporters:
        problems.append("no celery-exporter service: queue depth is not measured")
    for exporter in exporters:
        args = argv(exporter)
        measured = set((option(args, "-Q", "--queues") or environment(exporter).get("CE_QUEUES", "")).split(","))
        for queue in (*QUEUES, DEAD_LETTER_QUEUE):
            if queue not in measured:
                problems.append(f"celery-exporter does not measure the {queue!r} queue")
    return problems


def check_environment(compose, read=None):
    """Every variable set for a Harbor process is one the code reads (or one of the short lists
    above); every variable production requires is set, and not to a literal secret."""
    read = settings_env_names() if read is None else read
    problems = []
    for name, service in compose["services"].items():
        env = environment(service)
        if is_app(service):
            gunicorn = argv(service)[:1] == ["gunicorn"]
            for var in env:
                if var == "PROMETHEUS_MULTIPROC_DIR" and not gunicorn:
                    problems.append(f"{name}: PROMETHEUS_MULTIPROC_DIR is for web (gunicorn) only")
                if not (var in read or var in READ_BY_OTHERS_IN_APP
                        or var.startswith(tuple(APP_PREFIXES_READ_BY_OTHERS))):
                    problems.append(f"{name}: sets {var}, which nothing in Harbor reads (misspelled?)")
            if env.get("ENVIRONMENT") != "prod":
                problems.append(f"{name}: ENVIRONMENT is {env.get('ENVIRONMENT')!r}, not 'prod'")
            for var in (*prod.REQUIRED, "DATABASE_URL", "REDIS_URL"):
                if not env.get(var, "").strip():
                    problems.append(f"{name}: does not set {var}, which production requires")
            if not any(env.get(var, "").strip() for var in prod.BROKER):
                problems.append(f"{name}: sets no broker URL ({' or '.join(prod.BROKER)})")
            for var in ("DJANGO_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
                if var in env and ":?" not in env[var]:
                    problems.append(f"{name}: {var} must come from ${{{var}:?...}}, not a literal")
            if "STRIPE_API_BASE" in env:
                problems.append(f"{name}: sets STRIPE_API_BASE: production talks to real Stripe")
        else:
            prefixes, _ = THIRD_PARTY_ENV.get(repository(service), ((), ""))
            for var in env:
                if not (prefixes and var.startswith(prefixes)):
                    problems.append(f"{name}: sets {var}, which {repository(service)} does not read")
    return problems


def check_interpolation(text, example_text):
    """Every ${VAR} is listed in deploy/harbor.env.example (and nothing stale there); a `$` meant
    for the container's shell is written `$$` (compose would substitute a single one itself)."""
    problems = []
    text = re.sub(r"(^|\s)#.*$", "", text, flags=re.M).replace("$$", "")  # comments are not interpolated
    bare = re.findall(r"\$(?!\{)\w*", text)
    problems += [f"{b!r}: compose substitutes a single $ itself; write $$ for the container's shell" for b in bare]
    used = set(re.findall(r"\$\{(\w+)", text))
    listed = set(re.findall(r"^(\w+)=", example_text, flags=re.M))
    problems += [f"${{{v}}} is not listed in deploy/harbor.env.example" for v in sorted(used - listed)]
    problems += [f"deploy/harbor.env.example lists {v}, which the compose file does not use"
                 for v in sorted(listed - used)]
    return problems


def compose_problems(path=COMPOSE):
    compose = load(path)
    return (check_depends_on(compose) + check_restart_and_health(compose) + check_commands(compose)
            + check_queues(compose) + check_environment(compose)
            + check_interpolation(Path(path).read_text(), ENV_EXAMPLE.read_text()))


def check_jsonschema(path):
    """check-jsonschema with its built-in copy of the Compose spec. Proxies that refuse every
    connection make any download fail, so a pass shows that nothing is fetched."""
    env = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": "", "no_proxy": ""}
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(path)], capture_output=True, text=True, timeout=120, env=env)


# --- The real file -------------------------------------------------------------------------------

def test_compose_file_matches_the_compose_specification():
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_every_depends_on_target_exists_and_one_shots_complete_first():
    assert check_depends_on(load()) == []


def test_one_shots_run_once_long_running_services_restart_and_have_healthchecks():
    assert check_restart_and_health(load()) == []


def test_every_command_is_a_contract_entry_point_or_a_pinned_known_image():
    assert check_commands(load()) == []


def test_every_queue_has_a_worker_and_the_exporter_measures_every_queue():
    assert check_queues(load()) == []


def test_every_variable_is_read_and_every_required_one_is_set():
    assert check_environment(load()) == []


def test_redis_requires_a_password_and_every_harbor_process_s_url_carries_it():
    """Without one, anything on the stack's network could write the cache, the order locks and
    the limits' counts (the cache holds JSON only, but a lock or a count is no less important)."""
    compose = load()
    redis = compose["services"]["redis"]
    password = "${REDIS_PASSWORD:?set REDIS_PASSWORD}"

    assert option(argv(redis), "--requirepass") == password
    assert environment(redis)["REDISCLI_AUTH"] == password  # so the healthcheck can still ping
    app_services = [service for service in compose["services"].values() if is_app(service)]
    assert app_services and all(environment(s)["REDIS_URL"] == f"redis://:{password}@redis:6379/0"
                                for s in app_services)


def test_every_interpolated_variable_is_in_the_example_env_file():
    assert check_interpolation(COMPOSE.read_text(), ENV_EXAMPLE.read_text()) == []


def test_the_variable_reader_finds_each_way_of_reading_the_environment(tmp_path):
    source = tmp_path / "s.py"
    source.write_text("import os\nfrom os import environ\n"
                      "a = env.str('A'); b = env.bool('B', default=False); c = env('C'); d = env.db('D')\n"
                      "e = os.environ.get('E'); f = os.environ['F']; g = os.getenv('G'); h = 'H' in os.environ\n"
                      "i = environ.get('I'); os.environ.setdefault('J', '1'); k = env.list('K')\n")
    assert names_read(source) == set("ABCDEFGHIJK")
    read = settings_env_names()
    assert {"DATABASE_URL", "RABBITMQ_URL", "CELERY_BROKER_URL", "ALLOWED_HOSTS", "EMAIL_URL",
            "OTEL_EXPORTER_OTLP_ENDPOINT", "HARBOR_VAR_DIR", "RABBITMQ_MANAGEMENT_URL"} <= read


def test_settings_accept_the_web_service_environment_in_production(tmp_path):
    """The web service's environment (with sample secrets) loads the production settings:
    `check --deploy` is clean, /livez answers the healthcheck over plain HTTP on 127.0.0.1, and
    the name Prometheus scrapes (`web`) is an allowed host."""
    web = load()["services"]["web"]
    samples = {"DJANGO_SECRET_KEY": "k" * 20 + "-sample-secret-key-for-the-compose-test-0123456789",
               "POSTGRES_PASSWORD": "pgpass", "RABBITMQ_PASSWORD": "mqpass", "REDIS_PASSWORD": "redispass",
               "SHOP_HOST": "shop.example.com",
               "STRIPE_SECRET_KEY": "sk_live_sample", "STRIPE_PUBLISHABLE_KEY": "pk_live_sample",
               "STRIPE_WEBHOOK_SECRET": "whsec_sample", "EMAIL_URL": "smtp+tls://u:p@smtp.example.com:587"}
    env = {name: interpolate(value, samples) for name, value in environment(web).items()}
    env.update(PATH=os.environ["PATH"], HARBOR_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="harbor.settings")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn's: no directory here
    script = ("import django; django.setup()\n"
              "from django.core.management import call_command\n"
              "call_command('check', deploy=True, fail_level='WARNING')\n"
              "from django.test import Client\n"
              "print(Client().get('/livez', HTTP_HOST='127.0.0.1:8000').status_code)\n"
              "print(Client().get('/', HTTP_HOST='web:8000').status_code)\n"
              "print(Client().get('/livez', HTTP_HOST='evil.example').status_code)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # 301: to https, so the host was accepted (an unknown one gets 400)
    assert result.stdout.split()[-3:] == ["200", "301", "400"], result.stdout


def interpolate(value, values):
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$."""
    def substitute(match):
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        if values.get(name):
            return values[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""
    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}", substitute, value)


# --- Broken copies: each check fails when it should ------------------------------------------------

def test_a_broken_copy_fails_the_schema(tmp_path):
    broken = COMPOSE.read_text().replace("service_completed_successfully", "service_completed", 1)
    path = tmp_path / "docker-compose.yml"
    path.write_text(broken)
    result = check_jsonschema(path)
    assert result.returncode != 0 and "service_completed" in result.stdout


def mutate(tmp_path, change):
    compose = json.loads(json.dumps(load()))  # every service its own dicts (YAML aliases share them)
    change(compose)
    return compose_problems(write(tmp_path, compose))


def test_the_real_file_has_no_problems_after_a_round_trip(tmp_path):
    assert mutate(tmp_path, lambda compose: None) == []


def test_removing_a_worker_is_caught(tmp_path):
    def remove(compose):
        del compose["services"]["worker-notifications"]
    problems = mutate(tmp_path, remove)
    assert "no worker consumes the 'notifications' queue" in problems
    assert any("'worker-notifications', which is not a service" in p for p in problems)


def test_a_worker_on_a_misspelled_queue_is_caught(tmp_path):
    def misspell(compose):
        command = compose["services"]["worker-payments"]["command"]
        command[command.index("payments")] = "payment"
    problems = mutate(tmp_path, misspell)
    assert "no worker consumes the 'payments' queue" in problems
    assert any("consumes 'payment', which is not a Harbor queue" in p for p in problems)


def test_a_broken_depends_on_is_caught(tmp_path):
    def typo(compose):
        deps = compose["services"]["worker-payments"]["depends_on"]
        deps["migrat"] = deps.pop("migrate")
    problems = mutate(tmp_path, typo)
    assert any("depends_on 'migrat', which is not a service" in p for p in problems)
    assert "worker-payments: does not wait for migrate to complete successfully" in problems


def test_waiting_for_a_one_shot_only_to_start_is_caught(tmp_path):
    def race(compose):
        compose["services"]["web"]["depends_on"]["setup_rabbitmq"] = {"condition": "service_started"}
    assert any("waits for the one-shot setup_rabbitmq with service_started" in p for p in mutate(tmp_path, race))


def test_a_dependency_cycle_is_caught(tmp_path):
    def cycle(compose):
        compose["services"]["migrate"]["depends_on"]["web"] = {"condition": "service_started"}
    assert any(p.startswith("depends_on cycle:") for p in mutate(tmp_path, cycle))


def test_a_misspelled_variable_is_caught(tmp_path):
    def misspell(compose):
        env = compose["services"]["web"]["environment"]
        env["STRIPE_SECERT_KEY"] = env.pop("STRIPE_SECRET_KEY")
    problems = mutate(tmp_path, misspell)
    assert "web: sets STRIPE_SECERT_KEY, which nothing in Harbor reads (misspelled?)" in problems
    assert "web: does not set STRIPE_SECRET_KEY, which production requires" in problems


@pytest.mark.parametrize("var", [*prod.REQUIRED, "RABBITMQ_URL"])
def test_dropping_a_required_variable_is_caught(tmp_path, var):
    def drop(compose):
        for service in compose["services"].values():
            if is_app(service):
                service["environment"].pop(var, None)
    problems = mutate(tmp_path, drop)
    app_services = [n for n, s in load()["services"].items() if is_app(s)]
    expected = "sets no broker URL" if var == "RABBITMQ_URL" else f"does not set {var}, which production requires"
    for name in app_services:
        assert any(p.startswith(f"{name}: ") and expected in p for p in problems), (name, problems)


def test_a_literal_secret_a_dev_setting_or_a_misplaced_variable_is_caught(tmp_path):
    def loosen(compose):
        services = compose["services"]
        services["beat"]["environment"]["DJANGO_SECRET_KEY"] = "hunter2"
        services["migrate"]["environment"]["ENVIRONMENT"] = "dev"
        services["web"]["environment"]["STRIPE_API_BASE"] = "http://localstripe:8420"
        services["worker-payments"]["environment"]["PROMETHEUS_MULTIPROC_DIR"] = "/tmp/p"
        services["postgres"]["environment"]["POSTGRESS_PASSWORD"] = "x"
    problems = mutate(tmp_path, loosen)
    assert "beat: DJANGO_SECRET_KEY must come from ${DJANGO_SECRET_KEY:?...}, not a literal" in problems
    assert "migrate: ENVIRONMENT is 'dev', not 'prod'" in problems
    assert "web: sets STRIPE_API_BASE: production talks to real Stripe" in problems
    assert "worker-payments: PROMETHEUS_MULTIPROC_DIR is for web (gunicorn) only" in problems
    assert "postgres: sets POSTGRESS_PASSWORD, which postgres does not read" in problems


def test_a_command_off_the_contract_or_an_unpinned_image_is_caught(tmp_path):
    def drift(compose):
        services = compose["services"]
        services["worker-fulfillment"]["command"] = ["celery", "-A", "harbor", "worker"]  # every queue? no -Q
        services["beat"]["command"] = ["celery", "-A", "harbor", "beat"]  # the file scheduler
        services["migrate"]["command"] = ["python", "manage.py", "runserver"]
        services["flower"]["image"] = "mher/flower"
        services["rabbitmq"]["image"] = "rabbitmq:3.13"
    problems = mutate(tmp_path, drift)
    for name in ("worker-fulfillment", "beat", "migrate"):
        assert any(p.startswith(f"{name}: ") and "is not a contract entry point" in p for p in problems), name
    assert "flower: image 'mher/flower' is not pinned to a version" in problems
    assert any(p.startswith("rabbitmq: rabbitmq:3.13 has no management plugin") for p in problems)


def test_a_worker_healthcheck_pinging_another_node_is_caught(tmp_path):
    def swap(compose):
        test = compose["services"]["worker-payments"]["healthcheck"]["test"]
        test[1] = test[1].replace("payments@", "fulfillment@")
    assert "worker-payments: its healthcheck does not ping payments@$HOSTNAME" in mutate(tmp_path, swap)


def test_the_exporter_missing_the_dead_letters_queue_is_caught(tmp_path):
    def narrow(compose):
        command = compose["services"]["celery-exporter"]["command"]
        i = next(i for i, arg in enumerate(command) if arg.startswith("--queues="))
        command[i] = "--queues=payments,fulfillment,notifications"
    assert "celery-exporter does not measure the 'dead_letters' queue" in mutate(tmp_path, narrow)


def test_a_single_dollar_and_an_unlisted_variable_are_caught():
    text = COMPOSE.read_text().replace("payments@$$HOSTNAME", "payments@$HOSTNAME") + "\nx-new: ${NEW_SECRET:?x}\n"
    problems = check_interpolation(text, ENV_EXAMPLE.read_text())
    assert any("'$HOSTNAME'" in p for p in problems)
    assert "${NEW_SECRET} is not listed in deploy/harbor.env.example" in problems


# --- Prometheus and the alerts -------------------------------------------------------------------

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "offset", "inf", "nan"}


def metric_names(expr):
    """The metric names a PromQL expression selects (no parser: strings, label matchers, ranges and
    label lists removed; a word followed by `(` is a function)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if text[match.end():].lstrip().startswith("(") or match.group().lower() in PROMQL_WORDS:
            continue
        names.add(match.group())
    return names


def alert_rules():
    return [rule for group in yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"]
            for rule in group["rules"]]


def test_metric_names_reads_promql():
    expr = ('sum(rate(foo_total{a="b", c=~"x|y"}[5m])) by (job, instance) / on(job) group_left bar > 0.5 '
            'and absent(baz) or deriv(qux{q="1"}[10m]) offset 5m > 1e3')
    assert metric_names(expr) == {"foo_total", "bar", "baz", "qux"}


def test_prometheus_config_and_alerts_parse_and_match_the_stack():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    prometheus = load()["services"]["prometheus"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"] if v.startswith("./")}
    for rule_file in config["rule_files"]:
        assert rule_file in mounts and (ROOT / mounts[rule_file]).is_file(), rule_file
    # Every target is a service of the stack on the metrics network, at the port it listens on.
    services = load()["services"]
    targets = [t for job in config["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]]
    targets += [f"{n}:{sd['port']}" for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])
                for n in sd["names"]]
    assert {"web:8000", "celery-exporter:9808"} <= set(targets)
    for target in targets:
        host, port = target.split(":")
        assert host in services and "metrics" in services[host].get("networks", []), target
        args = argv(services[host])
        listens = {p.split(":")[-1] for p in services[host].get("expose", []) + services[host].get("ports", [])}
        listens |= {option(args, "--port"), (option(args, "--bind") or ":").split(":")[1]}
        assert port in listens, (target, listens)


def test_every_alert_rule_is_complete_and_uses_only_exported_metrics():
    rules = alert_rules()
    assert rules
    for rule in rules:
        assert {"alert", "expr", "for", "labels", "annotations"} <= set(rule), rule.get("alert")
        assert rule["labels"].get("severity") in ("page", "warning"), rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
        unknown = metric_names(rule["expr"]) - ALLOWED_IN_ALERTS
        assert not unknown, f"{rule['alert']}: {unknown} exported by neither Harbor nor celery-exporter"


def test_the_alerts_issue_11_asks_for_are_there():
    exprs = {rule["alert"]: rule["expr"] for rule in alert_rules()}
    used = set().union(*(metric_names(e) for e in exprs.values()))
    assert {"harbor_stuck_orders", "celery_queue_length", "celery_worker_up"} <= used
    assert any('queue_name="payments"' in e and "deriv(" in e for e in exprs.values())
    assert any('queue_name="dead_letters"' in e for e in exprs.values())
    assert HARBOR_METRICS & used and EXPORTER_METRICS & used


def test_an_alert_on_a_metric_nobody_exports_is_caught():
    assert metric_names('celery_queue_lenght{queue_name="payments"} > 0') - ALLOWED_IN_ALERTS == {
        "celery_queue_lenght"}


def test_promtool_checks_the_rules_and_config_and_their_unit_tests_pass(tmp_path):
    if not shutil.which("promtool"):
        pytest.fail("promtool is missing: `make test` installs Debian's prometheus package (apt-get install prometheus)")

    def promtool(*args):
        result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=DEPLOY)
        assert result.returncode == 0, result.stdout + result.stderr

    promtool("check", "rules", "alerts.yml")
    config = (DEPLOY / "prometheus.yml").read_text().replace("/etc/prometheus/alerts.yml", str(DEPLOY / "alerts.yml"))
    (tmp_path / "prometheus.yml").write_text(config)
    promtool("check", "config", str(tmp_path / "prometheus.yml"))
    promtool("test", "rules", "alerts_test.yml")
