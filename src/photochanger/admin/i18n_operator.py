"""Messages of the operator pages (problems, booths, setup): keyed by their English text, so they convert
to gettext catalogues unchanged."""

# Russian text is Cyrillic on purpose.
# ruff: noqa: RUF001

OPERATOR_MESSAGES: dict[str, tuple[str, str]] = {
    "Recent problems": ("Recent problems", "Недавние проблемы"),
    "Problems": ("Problems", "Проблемы"),
    "View slot": ("View slot", "Открыть слот"),
    "When": ("When", "Когда"),
    "What happened": ("What happened", "Что случилось"),
    "Message": ("Message", "Сообщение"),
    "Booth": ("Booth", "Стойка"),
    "refused": ("refused", "отклонено"),
    "The latest {limit} are listed.": ("The latest {limit} are listed.", "Показаны последние {limit}."),
    "No problems: every recent shot went through.": (
        "No problems: every recent shot went through.",
        "Проблем нет: все недавние снимки прошли.",
    ),
    "not configured: booths will get errors": (
        "not configured: booths will get errors",
        "не настроен: стойки получат ошибки",
    ),
    "This slot's provider is not configured: booths will get errors until an API key is set or another "
    "provider is chosen.": (
        "This slot's provider is not configured: booths will get errors until an API key is set or another "
        "provider is chosen.",
        "Провайдер этого слота не настроен: стойки будут получать ошибки, пока не задан API-ключ "
        "или не выбран другой провайдер.",
    ),
    "Refused booth uploads": ("Refused booth uploads", "Отклонённые загрузки стоек"),
    "Slot": ("Slot", "Слот"),
    "None in this window.": ("None in this window.", "За этот период — ни одной."),
    "Booths": ("Booths", "Стойки"),
    "Highlight booths silent for": ("Highlight booths silent for", "Выделять стойки, молчащие"),
    "{minutes} min": ("{minutes} min", "{minutes} мин"),
    "Booths are told apart by the PC name and Windows user that DSLR Remote Pro sends with every shot "
    "(last 7 days).": (
        "Booths are told apart by the PC name and Windows user that DSLR Remote Pro sends with every shot "
        "(last 7 days).",
        "Стойки различаются по имени компьютера и пользователю Windows, которые DSLR Remote Pro "
        "присылает с каждым снимком (за 7 дней).",
    ),
    "Version": ("Version", "Версия"),
    "Slots": ("Slots", "Слоты"),
    "Last shot": ("Last shot", "Последний снимок"),
    "Last result": ("Last result", "Последний результат"),
    "Shots": ("Shots", "Снимков"),
    "Wrong passwords": ("Wrong passwords", "Неверных паролей"),
    "Last seen": ("Last seen", "Последняя активность"),
    "unknown": ("unknown", "неизвестно"),
    "user": ("user", "пользователь"),
    "silent for {minutes} min": ("silent for {minutes} min", "молчит {minutes} мин"),
    "No booth has sent anything yet. Booths appear here after their first shot.": (
        "No booth has sent anything yet. Booths appear here after their first shot.",
        "Стойки ещё ничего не присылали. Они появятся здесь после первого снимка.",
    ),
    "Sign out of PhotoChanger on this browser?": (
        "Sign out of PhotoChanger on this browser?",
        "Выйти из PhotoChanger в этом браузере?",
    ),
    "You signed in with the generated first password. Choose your own password to continue.": (
        "You signed in with the generated first password. Choose your own password to continue.",
        "Вы вошли с автоматически созданным паролем. Чтобы продолжить, задайте свой пароль.",
    ),
    "New ingest password. It is shown only now: copy it into DSLR Remote Pro on every booth.": (
        "New ingest password. It is shown only now: copy it into DSLR Remote Pro on every booth.",
        "Новый пароль стоек. Он показан только сейчас: скопируйте его в DSLR Remote Pro на каждой стойке.",
    ),
    "New ingest password": ("New ingest password", "Новый пароль стоек"),
    "Or let the server pick a strong password for you.": (
        "Or let the server pick a strong password for you.",
        "Или пусть сервер сам придумает надёжный пароль.",
    ),
    "Generate a new password": ("Generate a new password", "Создать новый пароль"),
    "Booth setup": ("Booth setup", "Настройка стойки"),
    "In DSLR Remote Pro, open Settings → Postprocess photos, choose Web based (HTTP POST) and enter:": (
        "In DSLR Remote Pro, open Settings → Postprocess photos, choose Web based (HTTP POST) and enter:",
        "В DSLR Remote Pro откройте Settings → Postprocess photos, выберите Web based (HTTP POST) и укажите:",
    ),
    "URL": ("URL", "URL"),
    "Password": ("Password", "Пароль"),
    "Timeout": ("Timeout", "Таймаут"),
    "The ingest password (DSLR Remote Pro sends it in the password field).": (
        "The ingest password (DSLR Remote Pro sends it in the password field).",
        "Пароль стоек (DSLR Remote Pro отправляет его в поле password).",
    ),
    "No ingest password is set yet.": ("No ingest password is set yet.", "Пароль стоек ещё не задан."),
    "Set or generate it in Settings": (
        "Set or generate it in Settings",
        "Задайте или создайте его в настройках",
    ),
    "{seconds} seconds": ("{seconds} seconds", "{seconds} секунд"),
    "The server answers within {deadline} s (T_sync_response); the booth should wait a little longer.": (
        "The server answers within {deadline} s (T_sync_response); the booth should wait a little longer.",
        "Сервер отвечает не позже чем через {deadline} с (T_sync_response); стойка должна ждать чуть дольше.",
    ),
    "Then take a test shot: it appears in this slot's gallery, and any problem in its Problems list.": (
        "Then take a test shot: it appears in this slot's gallery, and any problem in its Problems list.",
        "Затем сделайте пробный снимок: он появится в галерее слота, а проблемы — в списке проблем.",
    ),
    "Getting started": ("Getting started", "С чего начать"),
    "done": ("done", "сделано"),
    "to do": ("to do", "предстоит"),
    "Upload a frame (a PNG with a transparent window)": (
        "Upload a frame (a PNG with a transparent window)",
        "Загрузите рамку (PNG с прозрачным окном)",
    ),
    "Configure a slot: choose what it does and save": (
        "Configure a slot: choose what it does and save",
        "Настройте слот: выберите обработку и сохраните",
    ),
    "In DSLR Remote Pro, set Postprocess photos → Web based (HTTP POST) with the slot's URL, the password "
    "and the timeout": (
        "In DSLR Remote Pro, set Postprocess photos → Web based (HTTP POST) with the slot's URL, the password "
        "and the timeout",
        "В DSLR Remote Pro включите Postprocess photos → Web based (HTTP POST) с URL слота, паролем "
        "и таймаутом",
    ),
    "A booth reached the server with a wrong password: check the password in DSLR Remote Pro.": (
        "A booth reached the server with a wrong password: check the password in DSLR Remote Pro.",
        "Стойка обратилась к серверу с неверным паролем: проверьте пароль в DSLR Remote Pro.",
    ),
    "Take a test shot at the booth": ("Take a test shot at the booth", "Сделайте пробный снимок на стойке"),
    "Try these settings before saving": (
        "Try these settings before saving",
        "Проверить настройки до сохранения",
    ),
    "Runs a photo through the settings above as they are now, saved or not. Booths keep using the saved "
    "settings until you save.": (
        "Runs a photo through the settings above as they are now, saved or not. Booths keep using the saved "
        "settings until you save.",
        "Обрабатывает фото с настройками выше в их текущем виде, даже несохранёнными. Стойки используют "
        "сохранённые настройки, пока вы не сохраните.",
    ),
    "Try without saving": ("Try without saving", "Проверить без сохранения"),
    "Not saved yet: save to use these settings for booths.": (
        "Not saved yet: save to use these settings for booths.",
        "Пока не сохранено: сохраните, чтобы стойки работали с этими настройками.",
    ),
    "Before": ("Before", "До"),
    "After": ("After", "После"),
    "Only templates with transparent areas are offered as frames.": (
        "Only templates with transparent areas are offered as frames.",
        "В качестве рамок предлагаются только шаблоны с прозрачными областями.",
    ),
    "field.template_opaque": (
        "This template has no transparent area, so it would hide the whole photo. Choose a PNG frame with a "
        "transparent window.",
        "У этого шаблона нет прозрачных областей — он закроет всё фото. Выберите PNG-рамку с прозрачным окном.",
    ),
    "Slots switched on: {count}.": ("Slots switched on: {count}.", "Включено слотов: {count}."),
    "Slots switched off: {count}.": ("Slots switched off: {count}.", "Отключено слотов: {count}."),
    "Settings copied to {count} slots.": (
        "Settings copied to {count} slots.",
        "Настройки скопированы в слоты: {count}.",
    ),
    "Select": ("Select", "Выбрать"),
    "With the ticked slots": ("With the ticked slots", "С отмеченными слотами"),
    "Switch on": ("Switch on", "Включить"),
    "Switch off": ("Switch off", "Отключить"),
    "Copy the settings of": ("Copy the settings of", "Скопировать настройки слота"),
    "Apply": ("Apply", "Применить"),
    "Skip to content": ("Skip to content", "Перейти к содержимому"),
    "Your account cannot do this. Ask an admin to do it for you, or to give your account the admin role.": (
        "Your account cannot do this. Ask an admin to do it for you, or to give your account the admin role.",
        "Вашей учётной записи это недоступно. Попросите администратора сделать это или выдать вам роль "
        "администратора.",
    ),
    "(default {value})": ("(default {value})", "(по умолчанию {value})"),
    "Full size": ("Full size", "Полный размер"),
    "Guest page": ("Guest page", "Страница гостя"),
    "QR code": ("QR code", "QR-код"),
    "Nothing to download: this slot has no stored results in the ZIP's range yet.": (
        "Nothing to download: this slot has no stored results in the ZIP's range yet.",
        "Скачивать нечего: в этом слоте пока нет сохранённых результатов для архива.",
    ),
    "shots per hour": ("shots per hour", "снимков в час"),
    "The photo was removed: its guest link no longer works.": (
        "The photo was removed: its guest link no longer works.",
        "Фото удалено: гостевая ссылка больше не работает.",
    ),
    "Remove this photo? Its guest link stops working.": (
        "Remove this photo? Its guest link stops working.",
        "Удалить это фото? Гостевая ссылка перестанет работать.",
    ),
    "Remove": ("Remove", "Удалить"),
    "Copy this slot's saved settings to other slots": (
        "Copy this slot's saved settings to other slots",
        "Скопировать сохранённые настройки слота в другие слоты",
    ),
    "Provider, operation, parameters and output; each slot keeps its name, on/off state and webhook.": (
        "Provider, operation, parameters and output; each slot keeps its name, on/off state and webhook.",
        "Провайдер, операция, параметры и формат; название, состояние и вебхук у каждого слота свои.",
    ),
    "Copy": ("Copy", "Скопировать"),
    "Failed shots": ("Failed shots", "Неудачные снимки"),
    "err.invalid_password": ("Wrong ingest password.", "Неверный пароль стойки."),
    "err.provider_unavailable": ("The provider is unavailable.", "Провайдер недоступен."),
    "err.interrupted": ("Interrupted by a server restart.", "Прервано перезапуском сервера."),
    "err.idempotency_conflict": (
        "A different photo was sent under the same shot id.",
        "Под тем же номером снимка прислано другое фото.",
    ),
    # Operator wording for existing keys (issue 20); these replace the catalogue's first wording.
    "action.view": ("View slot", "Открыть слот"),
    "settings.t_sync_response_seconds": (
        "How long the booth waits for the photo (seconds)",
        "Сколько стойка ждёт фото (секунд)",
    ),
    "settings.t_sync_response_seconds.help": (
        "After this the booth gets an error or, if the slot says so, its original photo back.",
        "После этого стойка получит ошибку или, если так настроен слот, своё исходное фото.",
    ),
    "settings.result_ttl_hours": (
        "How long results can be downloaded (hours)",
        "Сколько хранятся результаты (часов)",
    ),
    "settings.upload_max_mb": ("Largest photo accepted (MiB)", "Самое большое принимаемое фото (МиБ)"),
    # audit sentences
    "the name": ("the name", "название"),
    "the provider": ("the provider", "провайдер"),
    "the operation": ("the operation", "операция"),
    "on/off": ("on/off", "вкл/выкл"),
    "the upload limit": ("the upload limit", "лимит загрузки"),
    "the output format": ("the output format", "формат результата"),
    "what happens on failure": ("what happens on failure", "действие при ошибке"),
    "the webhook": ("the webhook", "вебхук"),
    "the webhook secret": ("the webhook secret", "секрет вебхука"),
    "the frame": ("the frame", "рамка"),
    "the reference images": ("the reference images", "референсные изображения"),
    "the ingest password": ("the ingest password", "пароль стоек"),
    "on": ("on", "вкл"),
    "off": ("off", "выкл"),
    "{what} changed": ("{what} changed", "{what}: изменён"),
    "{who} changed {slot}: {changes}": (
        "{who} changed {slot}: {changes}",
        "{who} изменил(а) {slot}: {changes}",
    ),
    "{who} changed the settings: {changes}": (
        "{who} changed the settings: {changes}",
        "{who} изменил(а) настройки: {changes}",
    ),
    "{who} opened the guest gallery of {slot}": (
        "{who} opened the guest gallery of {slot}",
        "{who} открыл(а) гостевую галерею слота {slot}",
    ),
    "{who} closed the guest gallery of {slot}": (
        "{who} closed the guest gallery of {slot}",
        "{who} закрыл(а) гостевую галерею слота {slot}",
    ),
    "{who} uploaded the template {name}": (
        "{who} uploaded the template {name}",
        "{who} загрузил(а) шаблон {name}",
    ),
    "{who} deleted the template {name}": (
        "{who} deleted the template {name}",
        "{who} удалил(а) шаблон {name}",
    ),
    "{who} created the user {user} ({role})": (
        "{who} created the user {user} ({role})",
        "{who} создал(а) пользователя {user} ({role})",
    ),
    "{who} deleted the user {user}": ("{who} deleted the user {user}", "{who} удалил(а) пользователя {user}"),
    "{who} changed the role of {user}: {old} → {new}": (
        "{who} changed the role of {user}: {old} → {new}",
        "{who} изменил(а) роль пользователя {user}: {old} → {new}",
    ),
    "{who} enabled the user {user}": (
        "{who} enabled the user {user}",
        "{who} включил(а) пользователя {user}",
    ),
    "{who} disabled the user {user}": (
        "{who} disabled the user {user}",
        "{who} отключил(а) пользователя {user}",
    ),
    "{who} removed a photo from {slot}": (
        "{who} removed a photo from {slot}",
        "{who} удалил(а) фото из {slot}",
    ),
    "{who} changed their password": ("{who} changed their password", "{who} сменил(а) свой пароль"),
    "{who} set a new password for {user}": (
        "{who} set a new password for {user}",
        "{who} задал(а) новый пароль пользователю {user}",
    ),
}
