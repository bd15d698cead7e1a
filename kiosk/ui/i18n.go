package ui

import (
	"fmt"
	"strings"
)

// catalog is one language's screen texts. Keys are the same in every
// catalog (a test checks it); values may hold fmt verbs.
type catalog map[string]string

// catalogs are embedded as Go maps: no file to lose on the kiosk, and the
// compiler keeps them with the binary. The technician menu stays English.
var catalogs = map[string]catalog{
	"en": {
		"lang_name":           "English",
		"title":               "Print credit top-up",
		"tap_card":            "Tap your card on the reader",
		"tap_card_sub":        "to top up your print credit",
		"accepted":            "Accepted: %s",
		"lang_hint":           "L: language",
		"offline_badge":       "Offline",
		"offline_idle":        "Offline: top-ups are saved and added to your account automatically later.",
		"offline_session":     "Offline: your money is safe and will be added to your account automatically.",
		"offline_unverified":  "Offline: this card cannot be checked now. Your money is safe and will be added if the card is registered; keep the receipt for the staff.",
		"unclaimed":           "%s inserted: tap your card to add it to your account",
		"looking_up":          "Looking up your card…",
		"card":                "Card %s",
		"please_wait":         "Please wait.",
		"not_registered":      "Do not insert money: this card is not registered",
		"not_registered_help": "Register it in MyQ or ask the staff, then tap it again.",
		"not_active":          "Do not insert money: this account is not active",
		"not_active_help":     "Ask the staff.",
		"card_paused":         "Too many unknown cards: the card reader is paused. Please wait %d s.",
		"hello":               "Hello, %s",
		"hello_card":          "Card %s",
		"balance":             "Balance: %s",
		"insert_money":        "Insert coins or notes",
		"inserted":            "Inserted",
		"below_min":           "Insert at least %s",
		"max_reached":         "Maximum reached: press Enter to add it to your account",
		"cash_refused":        "No cash is accepted right now: please ask the print room staff",
		"coins_refused":       "Coins are not accepted right now, notes are",
		"notes_refused":       "Notes are not accepted right now, coins are",
		"auto_finish":         "Adding to your account in %d s",
		"closes_in":           "Session ends in %d s",
		"more_time":           "Need more time? Press any key",
		"booking":             "Adding %s to your account…",
		"credited_sub":        "added to your account",
		"credited_to":         "for %s",
		"new_balance":         "New balance: %s",
		"new_balance_about":   "New balance: about %s",
		"saved_offline":       "saved: it will be added to your account automatically",
		"saved_offline_sub":   "Offline: MyQ did not answer in time. Your money is safe.",
		"saved_unverified":    "saved: it will be added if the card is registered",
		"photo_receipt":       "Take a photo of this code if you want a receipt.",
		"receipt_code":        "Receipt code:",
		"qr_too_small":        "(screen too small for the QR code)",
		"unrecognised":        "A coin was not recognised: keep your receipt and ask the staff.",
		"esc_refused":         "Coins cannot be returned: press Enter to add them to your account.",
		"second_card":         "Another card was tapped and ignored: finish this session first.",
		"out_of_service":      "Out of service",
		"out_of_service_sub":  "No money is taken now. Please ask the staff.",
		"key_enter_book":      "Enter: add to my account",
		"key_esc_cancel":      "Esc: cancel",
		"key_enter_ok":        "Enter: OK",
		"key_enter_done":      "Enter: done (%d s)",
		"key_lang":            "L: language",
	},
	"cs": {
		"lang_name":           "Čeština",
		"title":               "Dobití kreditu pro tisk",
		"tap_card":            "Přiložte kartu ke čtečce",
		"tap_card_sub":        "a dobijte si kredit na tisk",
		"accepted":            "Přijímáme: %s",
		"lang_hint":           "L: jazyk",
		"offline_badge":       "Offline",
		"offline_idle":        "Offline: dobití se uloží a na účet se připíše automaticky později.",
		"offline_session":     "Offline: vaše peníze jsou v bezpečí a na účet se připíšou automaticky.",
		"offline_unverified":  "Offline: kartu teď nelze ověřit. Peníze jsou v bezpečí a připíšou se, pokud je karta zaregistrovaná; doklad si uschovejte pro obsluhu.",
		"unclaimed":           "Vloženo %s: přiložte kartu a částka se vám připíše",
		"looking_up":          "Hledám vaši kartu…",
		"card":                "Karta %s",
		"please_wait":         "Čekejte prosím.",
		"not_registered":      "Nevkládejte peníze: tato karta není zaregistrovaná",
		"not_registered_help": "Zaregistrujte ji v MyQ nebo se obraťte na obsluhu, pak ji přiložte znovu.",
		"not_active":          "Nevkládejte peníze: tento účet není aktivní",
		"not_active_help":     "Obraťte se na obsluhu.",
		"card_paused":         "Příliš mnoho neznámých karet: čtečka je pozastavena. Počkejte prosím %d s.",
		"hello":               "Dobrý den, %s",
		"hello_card":          "Karta %s",
		"balance":             "Zůstatek: %s",
		"insert_money":        "Vložte mince nebo bankovky",
		"inserted":            "Vloženo",
		"below_min":           "Vložte alespoň %s",
		"max_reached":         "Dosaženo maxima: stiskněte Enter a částka se připíše na účet",
		"cash_refused":        "Hotovost teď nepřijímáme: obraťte se prosím na obsluhu",
		"coins_refused":       "Mince teď nepřijímáme, bankovky ano",
		"notes_refused":       "Bankovky teď nepřijímáme, mince ano",
		"auto_finish":         "Připsání na účet za %d s",
		"closes_in":           "Relace skončí za %d s",
		"more_time":           "Potřebujete víc času? Stiskněte libovolnou klávesu",
		"booking":             "Připisuji %s na váš účet…",
		"credited_sub":        "připsáno na váš účet",
		"credited_to":         "uživateli %s",
		"new_balance":         "Nový zůstatek: %s",
		"new_balance_about":   "Nový zůstatek: přibližně %s",
		"saved_offline":       "uloženo: na účet se připíše automaticky",
		"saved_offline_sub":   "Offline: MyQ neodpovědělo včas. Vaše peníze jsou v bezpečí.",
		"saved_unverified":    "uloženo: připíše se, pokud je karta zaregistrovaná",
		"photo_receipt":       "Pokud chcete doklad, vyfoťte si tento kód.",
		"receipt_code":        "Kód dokladu:",
		"qr_too_small":        "(obrazovka je na QR kód příliš malá)",
		"unrecognised":        "Jedna mince nebyla rozpoznána: uschovejte si doklad a obraťte se na obsluhu.",
		"esc_refused":         "Mince nelze vrátit: stiskněte Enter a připíšou se na váš účet.",
		"second_card":         "Další karta byla ignorována: nejprve dokončete tuto relaci.",
		"out_of_service":      "Mimo provoz",
		"out_of_service_sub":  "Nyní nepřijímáme peníze. Obraťte se prosím na obsluhu.",
		"key_enter_book":      "Enter: připsat na můj účet",
		"key_esc_cancel":      "Esc: zrušit",
		"key_enter_ok":        "Enter: OK",
		"key_enter_done":      "Enter: hotovo (%d s)",
		"key_lang":            "L: jazyk",
	},
	"de": {
		"lang_name":           "Deutsch",
		"title":               "Druckguthaben aufladen",
		"tap_card":            "Karte an das Lesegerät halten",
		"tap_card_sub":        "um Ihr Druckguthaben aufzuladen",
		"accepted":            "Angenommen: %s",
		"lang_hint":           "L: Sprache",
		"offline_badge":       "Offline",
		"offline_idle":        "Offline: Aufladungen werden gespeichert und später automatisch Ihrem Konto gutgeschrieben.",
		"offline_session":     "Offline: Ihr Geld ist sicher und wird Ihrem Konto automatisch gutgeschrieben.",
		"offline_unverified":  "Offline: Diese Karte kann gerade nicht geprüft werden. Ihr Geld ist sicher und wird gutgeschrieben, wenn die Karte registriert ist; Beleg für das Personal aufbewahren.",
		"unclaimed":           "%s eingezahlt: Karte an das Lesegerät halten, um den Betrag zu erhalten",
		"looking_up":          "Karte wird gesucht…",
		"card":                "Karte %s",
		"please_wait":         "Bitte warten.",
		"not_registered":      "Kein Geld einzahlen: Diese Karte ist nicht registriert",
		"not_registered_help": "Bitte in MyQ registrieren oder das Personal fragen, dann die Karte erneut an das Lesegerät halten.",
		"not_active":          "Kein Geld einzahlen: Dieses Konto ist nicht aktiv",
		"not_active_help":     "Bitte das Personal fragen.",
		"card_paused":         "Zu viele unbekannte Karten: der Kartenleser pausiert. Bitte %d s warten.",
		"hello":               "Hallo, %s",
		"hello_card":          "Karte %s",
		"balance":             "Guthaben: %s",
		"insert_money":        "Münzen oder Scheine einzahlen",
		"inserted":            "Eingezahlt",
		"below_min":           "Mindestens %s einzahlen",
		"max_reached":         "Maximum erreicht: Enter drücken, um es Ihrem Konto gutzuschreiben",
		"cash_refused":        "Bargeld wird gerade nicht angenommen: bitte wenden Sie sich an das Personal",
		"coins_refused":       "Münzen werden gerade nicht angenommen, Scheine schon",
		"notes_refused":       "Scheine werden gerade nicht angenommen, Münzen schon",
		"auto_finish":         "Gutschrift auf Ihr Konto in %d s",
		"closes_in":           "Sitzung endet in %d s",
		"more_time":           "Mehr Zeit nötig? Beliebige Taste drücken",
		"booking":             "%s wird Ihrem Konto gutgeschrieben…",
		"credited_sub":        "Ihrem Konto gutgeschrieben",
		"credited_to":         "für %s",
		"new_balance":         "Neues Guthaben: %s",
		"new_balance_about":   "Neues Guthaben: etwa %s",
		"saved_offline":       "gespeichert: wird Ihrem Konto automatisch gutgeschrieben",
		"saved_offline_sub":   "Offline: MyQ hat nicht rechtzeitig geantwortet. Ihr Geld ist sicher.",
		"saved_unverified":    "gespeichert: wird gutgeschrieben, wenn die Karte registriert ist",
		"photo_receipt":       "Fotografieren Sie diesen Code, wenn Sie einen Beleg möchten.",
		"receipt_code":        "Belegcode:",
		"qr_too_small":        "(Bildschirm zu klein für den QR-Code)",
		"unrecognised":        "Eine Münze wurde nicht erkannt: Beleg aufbewahren und das Personal fragen.",
		"esc_refused":         "Münzen können nicht zurückgegeben werden: Enter drücken, um sie Ihrem Konto gutzuschreiben.",
		"second_card":         "Eine weitere Karte wurde ignoriert: bitte erst diese Sitzung beenden.",
		"out_of_service":      "Außer Betrieb",
		"out_of_service_sub":  "Derzeit wird kein Geld angenommen. Bitte das Personal fragen.",
		"key_enter_book":      "Enter: meinem Konto gutschreiben",
		"key_esc_cancel":      "Esc: abbrechen",
		"key_enter_ok":        "Enter: OK",
		"key_enter_done":      "Enter: fertig (%d s)",
		"key_lang":            "L: Sprache",
	},
}

// tr returns the text for key in lang, formatted with args. A missing key
// shows itself rather than an empty line (the catalog test prevents it).
func tr(lang, key string, args ...any) string {
	s, ok := catalogs[lang][key]
	if !ok {
		s, ok = catalogs["en"][key]
		if !ok {
			return key
		}
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// moneyStyle is how one language writes amounts.
type moneyStyle struct {
	decimal, thousands string
	// symbolFirst: "€12.50" rather than "12,50 €". Only for currencies
	// with a symbol; codes always follow the number.
	symbolFirst bool
	symbols     map[string]string // currency code → symbol
}

var moneyStyles = map[string]moneyStyle{
	"en": {decimal: ".", thousands: ",", symbolFirst: true, symbols: map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}},
	"cs": {decimal: ",", thousands: "\u00a0", symbols: map[string]string{"EUR": "€", "CZK": "Kč"}},
	"de": {decimal: ",", thousands: ".", symbols: map[string]string{"EUR": "€", "CHF": "CHF"}},
}

// FormatMoney writes minor units (hundredths) as the language writes money
// in currency: en "€12.50" and "12.50 CZK", cs "12,50 Kč", de "12,50 €".
// Integer arithmetic only.
func FormatMoney(lang, currency string, minor int64) string {
	ms, ok := moneyStyles[lang]
	if !ok {
		ms = moneyStyles["en"]
	}
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-(minor + 1)) + 1
	}
	units := fmt.Sprint(u / 100)
	var b strings.Builder
	for i, c := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteString(ms.thousands)
		}
		b.WriteRune(c)
	}
	num := fmt.Sprintf("%s%s%02d", b.String(), ms.decimal, u%100)
	if neg {
		num = "-" + num
	}
	sym, hasSym := ms.symbols[currency]
	switch {
	case hasSym && ms.symbolFirst:
		if neg {
			return "-" + sym + num[1:]
		}
		return sym + num
	case hasSym:
		return num + " " + sym
	default:
		return num + " " + currency
	}
}
