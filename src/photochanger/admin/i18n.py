"""The admin UI's message catalog (English and Russian) and the choice of language per request."""

# Russian text is Cyrillic on purpose.
# ruff: noqa: RUF001

from collections.abc import Mapping

from fastapi import Request

from photochanger.admin.i18n_operator import OPERATOR_MESSAGES

LANG_COOKIE = "pc_lang"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"

# key -> (English, Russian). Every visible string of the admin UI goes through here.
MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("PhotoChanger", "PhotoChanger"),
    "nav.dashboard": ("Slots", "Слоты"),
    "nav.media": ("Template media", "Шаблоны"),
    "nav.stats": ("Stats", "Статистика"),
    "nav.settings": ("Settings", "Настройки"),
    "nav.users": ("Users", "Пользователи"),
    "nav.audit": ("Audit log", "Журнал аудита"),
    "nav.logout": ("Log out", "Выйти"),
    "nav.language": ("Language", "Язык"),
    "nav.signed_in_as": ("Signed in as", "Вы вошли как"),
    "nav.account": ("Account", "Учётная запись"),
    "role.admin": ("admin", "администратор"),
    "role.operator": ("operator", "оператор"),
    # login
    "login.title": ("Sign in", "Вход"),
    "login.username": ("Username", "Имя пользователя"),
    "login.password": ("Password", "Пароль"),
    "login.submit": ("Sign in", "Войти"),
    "login.invalid": ("Wrong username or password.", "Неверное имя пользователя или пароль."),
    "login.throttled": (
        "Too many failed attempts. Try again in {minutes} min.",
        "Слишком много неудачных попыток. Повторите через {minutes} мин.",
    ),
    "login.csrf": (
        "The form expired. Please try again.",
        "Форма устарела. Попробуйте ещё раз.",
    ),
    "login.logged_out": ("You have been signed out.", "Вы вышли из системы."),
    "refresh.title": ("Restoring your session…", "Восстанавливаем сессию…"),
    # dashboard
    "dash.title": ("Slots", "Слоты"),
    "dash.active": ("active", "активен"),
    "dash.inactive": ("disabled", "отключён"),
    "dash.no_result": ("no results yet", "результатов пока нет"),
    "dash.last_hour": ("Last hour", "За последний час"),
    "dash.ingest_url": ("Ingest URL", "Ingest-ссылка"),
    "dash.copy": ("Copy", "Копировать"),
    "dash.copied": ("Copied", "Скопировано"),
    "dash.live": ("Live updates on", "Обновления в реальном времени"),
    "outcome.done": ("done", "готово"),
    "outcome.failed": ("failed", "ошибки"),
    "outcome.timeout": ("timeout", "таймаут"),
    "outcome.pending": ("running", "в работе"),
    "action.edit": ("Edit", "Изменить"),
    "action.view": ("Settings", "Настройки"),
    "action.test": ("Test run", "Тест"),
    "action.gallery": ("Gallery", "Галерея"),
    "action.save": ("Save", "Сохранить"),
    "action.delete": ("Delete", "Удалить"),
    "action.upload": ("Upload", "Загрузить"),
    "action.download": ("Download", "Скачать"),
    "action.reload": ("Reload the slot", "Загрузить заново"),
    "action.apply": ("Apply", "Применить"),
    "action.back": ("Back", "Назад"),
    "action.show": ("Show", "Показать"),
    # slot editor
    "slot.title": ("Slot {slot}", "Слот {slot}"),
    "slot.display_name": ("Name", "Название"),
    "slot.provider": ("Provider", "Провайдер"),
    "slot.operation": ("Operation", "Операция"),
    "slot.switch": ("Switch", "Переключить"),
    "slot.unconfigured": ("no API key", "нет API-ключа"),
    "slot.is_active": ("Active (booths may upload)", "Активен (стойки могут загружать)"),
    "slot.params": ("Parameters", "Параметры"),
    "slot.output": ("Output", "Результат"),
    "slot.size_limit_mb": ("Upload limit for this slot, MiB", "Лимит загрузки для слота, МиБ"),
    "slot.size_limit_hint": ("Empty: the global upload cap.", "Пусто — общий лимит загрузки."),
    "slot.output_format": ("Output format", "Формат результата"),
    "slot.on_failure": ("When processing fails", "Если обработка не удалась"),
    "slot.on_failure.error": ("answer with an error", "вернуть ошибку"),
    "slot.on_failure.original": ("return the original photo", "вернуть исходное фото"),
    "slot.saved": ("Saved.", "Сохранено."),
    "slot.invalid": ("Some fields need attention.", "Проверьте отмеченные поля."),
    "slot.conflict": (
        "Someone else changed this slot while you were editing it (now version {version}). "
        "Your changes were not saved: reload the slot and apply them again.",
        "Кто-то изменил этот слот, пока вы его редактировали (теперь версия {version}). "
        "Изменения не сохранены: загрузите слот заново и повторите их.",
    ),
    "slot.readonly": (
        "You can view this slot but not change it.",
        "Вы можете просматривать слот, но не изменять его.",
    ),
    "slot.updated": ("Version {version}, changed {when} by {who}", "Версия {version}, изменён {when}, {who}"),
    "slot.none": ("— none —", "— нет —"),
    "slot.no_media": (
        "No template media yet: upload some in the library.",
        "Шаблонов пока нет: загрузите их в библиотеке.",
    ),
    "slot.lines_hint": ("One per line.", "По одному на строку."),
    # slot webhook
    "webhook.title": ("Webhook", "Вебхук"),
    "webhook.intro": (
        "When a job ends, a signed JSON event is POSTed to this address (HMAC-SHA256, X-PhotoChanger-Signature).",
        "Когда задача завершается, на этот адрес отправляется подписанное JSON-событие "
        "(HMAC-SHA256, X-PhotoChanger-Signature).",
    ),
    "webhook.url": ("Callback URL", "Адрес для вызова"),
    "webhook.url_hint": (
        "http:// or https://; empty: no webhook.",
        "http:// или https://; пусто — без вебхука.",
    ),
    "webhook.secret": ("Signing secret", "Секрет подписи"),
    "webhook.secret_set": (
        "A secret is set. Leave this empty to keep it, or type a new one to replace it.",
        "Секрет задан. Оставьте поле пустым, чтобы сохранить его, или введите новый для замены.",
    ),
    "webhook.secret_unset": (
        "No secret yet: 16 characters or more, required with a URL.",
        "Секрет не задан: от 16 символов, обязателен при указанном адресе.",
    ),
    "webhook.remove": ("Remove the webhook (URL and secret)", "Удалить вебхук (адрес и секрет)"),
    "webhook.deliveries": ("Webhook deliveries", "Доставки вебхука"),
    "webhook.deliveries_hint": (
        "The last {count} attempts, newest first.",
        "Последние {count} попыток, новые сверху.",
    ),
    "webhook.no_deliveries": ("No deliveries yet.", "Доставок пока не было."),
    "webhook.when": ("Time", "Время"),
    "webhook.attempt": ("Attempt", "Попытка"),
    "webhook.outcome": ("Status or error", "Статус или ошибка"),
    "webhook.duration": ("Duration", "Длительность"),
    "webhook.ms": ("{ms} ms", "{ms} мс"),
    # test run
    "test.title": ("Test run: {slot}", "Тестовый запуск: {slot}"),
    "test.intro": (
        "Runs one photo through the slot's saved settings, like a booth upload (not counted in stats).",
        "Обрабатывает одно фото по сохранённым настройкам слота, как загрузка со стойки (не входит в статистику).",
    ),
    "test.photo": ("Photo (JPEG, PNG or WebP)", "Фото (JPEG, PNG или WebP)"),
    "test.run": ("Run test", "Запустить"),
    "test.original": ("Original", "Оригинал"),
    "test.result": ("Result", "Результат"),
    "test.took": ("Done in {seconds} s", "Готово за {seconds} с"),
    "test.failed": ("Failed after {seconds} s", "Ошибка через {seconds} с"),
    "test.fallback": (
        "Processing failed ({reason}); the slot returned the original photo.",
        "Обработка не удалась ({reason}); слот вернул исходное фото.",
    ),
    # gallery
    "gallery.title": ("Gallery: {slot}", "Галерея: {slot}"),
    "gallery.empty": ("No results yet.", "Результатов пока нет."),
    "gallery.expired": ("expired", "срок истёк"),
    "gallery.test": ("test", "тест"),
    "gallery.zip": ("Download ZIP", "Скачать ZIP"),
    "gallery.zip_tests": ("include test runs", "включая тестовые"),
    "gallery.until": ("until {when}", "до {when}"),
    "gallery.public_open": ("Open public gallery for 15 min", "Открыть публичную галерею на 15 мин"),
    "gallery.public_close": ("Close public gallery", "Закрыть публичную галерею"),
    "gallery.public_until": (
        "The public gallery is open until {when}.",
        "Публичная галерея открыта до {when}.",
    ),
    # media
    "media.title": ("Template media", "Шаблоны"),
    "media.name": ("Name", "Название"),
    "media.file": ("Image (JPEG, PNG or WebP)", "Изображение (JPEG, PNG или WebP)"),
    "media.used_by": ("Used by {slots}", "Используется: {slots}"),
    "media.unused": ("Not used", "Не используется"),
    "media.empty": ("No template media yet.", "Шаблонов пока нет."),
    "media.uploaded": ("Uploaded.", "Загружено."),
    "media.deleted": ("Deleted.", "Удалено."),
    "media.delete_blocked": ("Change these slots first.", "Сначала измените эти слоты."),
    "media.alpha": ("transparent", "с прозрачностью"),
    "media.confirm_delete": ("Delete this template?", "Удалить этот шаблон?"),
    # settings
    "settings.title": ("Settings", "Настройки"),
    "settings.t_sync_response_seconds": ("T_sync_response, seconds", "T_sync_response, секунд"),
    "settings.t_sync_response_seconds.help": (
        "How long a booth waits for its result.",
        "Сколько стойка ждёт результат.",
    ),
    "settings.result_ttl_hours": ("Result TTL, hours", "Срок хранения результата, часов"),
    "settings.result_ttl_hours.help": ("How long results stay downloadable.", "Сколько результаты доступны."),
    "settings.slot_concurrency": ("Jobs per slot at once", "Задач на слот одновременно"),
    "settings.slot_concurrency.help": ("", ""),
    "settings.provider_concurrency": ("Jobs per provider at once", "Задач на провайдера одновременно"),
    "settings.provider_concurrency.help": ("", ""),
    "settings.global_concurrency": ("Jobs on the server at once", "Задач на сервере одновременно"),
    "settings.global_concurrency.help": ("", ""),
    "settings.upload_max_mb": ("Upload cap, MiB", "Максимальный размер загрузки, МиБ"),
    "settings.upload_max_mb.help": ("Largest accepted photo.", "Самое большое принимаемое фото."),
    "settings.changed": ("changed {when} by {who}", "изменено {when}, {who}"),
    "settings.default": ("default", "по умолчанию"),
    "settings.saved": ("Settings saved.", "Настройки сохранены."),
    "settings.invalid": ("Some values are out of bounds.", "Некоторые значения вне допустимых границ."),
    "settings.ingest": ("Ingest password", "Ingest-пароль"),
    "settings.ingest_set": ("Set on {when} by {who}.", "Установлен {when}, {who}."),
    "settings.ingest_unset": ("Not set: booths cannot upload.", "Не задан: стойки не могут загружать."),
    "settings.ingest_new": ("New ingest password", "Новый ingest-пароль"),
    "settings.ingest_repeat": ("Repeat it", "Повторите его"),
    "settings.ingest_confirm": (
        "I understand that booths still using the old password will be refused.",
        "Я понимаю, что стойки со старым паролем перестанут приниматься.",
    ),
    "settings.ingest_rotate": ("Rotate password", "Сменить пароль"),
    "settings.ingest_mismatch": ("The two passwords differ.", "Пароли не совпадают."),
    "settings.ingest_unconfirmed": ("Please confirm the rotation.", "Подтвердите смену пароля."),
    "settings.ingest_rotated": ("Ingest password rotated.", "Ingest-пароль изменён."),
    # stats
    "stats.title": ("Stats", "Статистика"),
    "stats.window": ("Window", "Период"),
    "stats.window.1h": ("last hour", "последний час"),
    "stats.window.24h": ("last 24 hours", "последние 24 часа"),
    "stats.window.7d": ("last 7 days", "последние 7 дней"),
    "stats.outcomes": ("Outcomes per slot", "Исходы по слотам"),
    "stats.latency": (
        "Latency per slot (p50 / p95, seconds)",
        "Задержка по слотам (p50 / p95, секунды)",
    ),
    "stats.slot": ("Slot", "Слот"),
    "stats.total": ("Total", "Всего"),
    "stats.no_data": ("No booth jobs in this window.", "За этот период задач со стоек не было."),
    # users
    "users.title": ("Users", "Пользователи"),
    "users.username": ("Username", "Имя пользователя"),
    "users.role": ("Role", "Роль"),
    "users.active": ("Active", "Активен"),
    "users.last_login": ("Last login", "Последний вход"),
    "users.never": ("never", "никогда"),
    "users.create": ("Add user", "Добавить пользователя"),
    "users.password": ("Password (12+ characters)", "Пароль (от 12 символов)"),
    "users.enable": ("Enable", "Включить"),
    "users.disable": ("Disable", "Отключить"),
    "users.set_role": ("Set role", "Сменить роль"),
    "users.created": ("User created.", "Пользователь создан."),
    "users.updated": ("User updated.", "Пользователь изменён."),
    "users.deleted": ("User deleted.", "Пользователь удалён."),
    "users.you": ("you", "вы"),
    "users.confirm_delete": ("Delete this user?", "Удалить пользователя?"),
    # account
    "account.title": ("Account", "Учётная запись"),
    "account.username": ("Username", "Имя пользователя"),
    "account.role": ("Role", "Роль"),
    "account.password_changed": ("Password last changed", "Пароль изменён"),
    "account.change": ("Change password", "Сменить пароль"),
    "account.current": ("Current password", "Текущий пароль"),
    "account.new": ("New password (12+ characters)", "Новый пароль (от 12 символов)"),
    "account.repeat": ("Repeat the new password", "Повторите новый пароль"),
    "account.note": (
        "Changing the password signs you out everywhere else; this browser stays signed in.",
        "После смены пароля все другие сеансы завершатся; в этом браузере вы останетесь в системе.",
    ),
    "account.changed": (
        "Password changed. Your other sessions were signed out.",
        "Пароль изменён. Другие сеансы завершены.",
    ),
    "account.wrong_current": ("The current password is wrong.", "Текущий пароль указан неверно."),
    "account.too_short": (
        "The new password must be 12 to 1024 characters long.",
        "Новый пароль должен быть от 12 до 1024 символов.",
    ),
    "account.mismatch": ("The two new passwords differ.", "Новые пароли не совпадают."),
    "account.invalid": ("The password was not changed.", "Пароль не изменён."),
    # audit
    "audit.title": ("Audit log", "Журнал аудита"),
    "audit.when": ("When", "Когда"),
    "audit.actor": ("Who", "Кто"),
    "audit.action": ("Action", "Действие"),
    "audit.target": ("Object", "Объект"),
    "audit.changes": ("Changes", "Изменения"),
    "audit.filter": ("Filter", "Фильтр"),
    "audit.newer": ("Newer", "Новее"),
    "audit.older": ("Older", "Старее"),
    "audit.page": ("{first}–{last} of {total}", "{first}–{last} из {total}"),
    "audit.empty": ("No entries.", "Записей нет."),
    # errors
    "error.title": ("Something went wrong", "Что-то пошло не так"),
    "error.back": ("Back to the slots", "Назад к слотам"),
    "err.forbidden": ("You do not have permission for this.", "У вас нет прав на это действие."),
    "err.csrf_failed": (
        "The form expired. Reload the page and try again.",
        "Форма устарела. Обновите страницу и попробуйте снова.",
    ),
    "err.slot_not_found": ("There is no such slot.", "Такого слота нет."),
    "err.validation_error": ("Some fields are invalid.", "Некоторые поля заполнены неверно."),
    "err.weak_password": (
        "Passwords are 12 to 1024 characters long.",
        "Пароль должен быть от 12 до 1024 символов.",
    ),
    "err.username_taken": ("That username is already taken.", "Такое имя пользователя уже занято."),
    "err.cannot_modify_self": (
        "You cannot delete, disable or demote yourself.",
        "Нельзя удалить, отключить или понизить самого себя.",
    ),
    "err.last_admin": (
        "The last active admin cannot be removed.",
        "Нельзя убрать последнего активного администратора.",
    ),
    "err.wrong_password": ("The current password is wrong.", "Текущий пароль указан неверно."),
    "err.user_not_found": ("There is no such user.", "Такого пользователя нет."),
    "err.template_media_in_use": ("This template is in use.", "Этот шаблон используется."),
    "err.template_media_not_found": ("There is no such template.", "Такого шаблона нет."),
    "err.invalid_image": ("The image is unreadable or corrupt.", "Изображение повреждено или не читается."),
    "err.unsupported_media_type": (
        "Only JPEG, PNG and WebP images are accepted.",
        "Принимаются только JPEG, PNG и WebP.",
    ),
    "err.payload_too_large": ("The file is too large.", "Файл слишком большой."),
    "err.invalid_request": ("The upload is malformed or empty.", "Загрузка повреждена или пуста."),
    "err.slot_disabled": ("The slot is disabled.", "Слот отключён."),
    "err.busy": ("The server is busy; try again shortly.", "Сервер занят; повторите чуть позже."),
    "err.timeout": (
        "Processing took longer than T_sync_response.",
        "Обработка заняла дольше T_sync_response.",
    ),
    "err.provider_error": ("The provider failed.", "Ошибка провайдера."),
    "err.provider_refused": ("The provider refused this photo.", "Провайдер отказался обрабатывать фото."),
    "err.unavailable": ("A service is unavailable right now.", "Сервис сейчас недоступен."),
    "err.insufficient_storage": ("The disk is almost full.", "Диск почти заполнен."),
    # field validation messages by pydantic error type
    "field.missing": ("Required.", "Обязательное поле."),
    "field.string_too_short": ("Required.", "Обязательное поле."),
    "field.greater_than_equal": ("Too small.", "Слишком маленькое значение."),
    "field.less_than_equal": ("Too large.", "Слишком большое значение."),
    "field.int_parsing": ("Enter a whole number.", "Введите целое число."),
    "field.int_type": ("Enter a whole number.", "Введите целое число."),
    "field.float_parsing": ("Enter a number.", "Введите число."),
    "field.template_missing": ("This template no longer exists.", "Этот шаблон больше не существует."),
    "field.string_pattern_mismatch": ("Wrong format.", "Неверный формат."),
    "field.string_too_long": ("Too long.", "Слишком длинное значение."),
    "field.invalid_webhook_url": (
        "Enter an http:// or https:// address with a host and no user name or password in it.",
        "Введите адрес http:// или https:// с именем хоста, без имени пользователя и пароля.",
    ),
    "field.webhook_secret_required": (
        "A signing secret of at least 16 characters is required with a webhook URL.",
        "При указанном адресе нужен секрет подписи не короче 16 символов.",
    ),
}

MESSAGES.update(OPERATOR_MESSAGES)


def pick_language(request: Request) -> str:
    """The `pc_lang` cookie when set, else the best of the browser's `Accept-Language`, else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for index, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        # Earlier entries win ties, as browsers list them in preference order.
        if q - index * 1e-6 > best_q:
            best, best_q = lang, q - index * 1e-6
    return best


class Translator:
    """`t("key", name=value)`: the message in this request's language; unknown keys show themselves."""

    def __init__(self, language: str, messages: Mapping[str, tuple[str, str]] = MESSAGES) -> None:
        self.language = language
        self._index = LANGUAGES.index(language)
        self._messages = messages

    def __call__(self, key: str, **values: object) -> str:
        entry = self._messages.get(key)
        text = entry[self._index] if entry else key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._messages
