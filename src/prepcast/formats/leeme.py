"""The LEEME (read-me) of a PREP database, in Spanish, describing every column of the cut's CSV."""

from __future__ import annotations

from prepcast.election.model import ColumnKind, Election, Proceso

PREAMBLE_DOC = (
    ("ACTAS_ESPERADAS", "Número de Actas PREP de todas las casillas aprobadas; conforman el Catálogo de Actas PREP esperadas."),
    ("ACTAS_REGISTRADAS", "Número de Actas PREP asentadas en el sistema informático al momento del corte, contabilizadas o no. Incluye las Actas fuera de catálogo."),
    ("ACTAS_FUERA_CATALOGO", "Actas PREP registradas que no pueden asociarse a una casilla aprobada por un error u omisión en sus datos de identificación. No se consideran en el porcentaje de Actas con inconsistencias."),
    ("ACTAS_CAPTURADAS", "Actas PREP registradas que se encuentran dentro del Catálogo de Actas esperadas, contabilizadas o no. Excluye las Actas fuera de catálogo."),
    ("PORCENTAJE_ACTAS_CAPTURADAS", "Porcentaje de Actas capturadas respecto de las esperadas; cuatro decimales, el cuarto truncado y no redondeado."),
    ("ACTAS_CONTABILIZADAS", "Actas de casillas aprobadas cuya suma de votos no excede la lista nominal más los representantes de partidos (en casillas especiales, las boletas aprobadas más los representantes) y que no tienen todos sus campos de votos ilegibles o todos vacíos."),
    ("PORCENTAJE_ACTAS_CONTABILIZADAS", "Porcentaje de Actas contabilizadas respecto de las esperadas; cuatro decimales truncados."),
    ("PORCENTAJE_ACTAS_INCONSISTENCIAS", "Porcentaje de Actas con inconsistencias (excede lista nominal, algún o todos los campos ilegibles o sin dato) respecto de las esperadas; cuatro decimales truncados."),
    ("ACTAS_NO_CONTABILIZADAS", "Actas capturadas que no se contabilizan: exceden la lista nominal, no contienen dato legible alguno, no contienen dato alguno, o son Sin Acta."),
    ("LISTA_NOMINAL_ACTAS_CONTABILIZADAS", "Suma de la lista nominal de las casillas cuyas Actas se contabilizan."),
    ("TOTAL_VOTOS_C_CS", "Suma de los votos de las Actas contabilizadas, incluidas las de casillas especiales."),
    ("TOTAL_VOTOS_S_CS", "Suma de los votos de las Actas contabilizadas, sin las de casillas especiales."),
    ("PORCENTAJE_PARTICIPACION_CIUDADANA", "Porcentaje de ciudadanas y ciudadanos que votaron respecto de la lista nominal de las Actas contabilizadas. Durante la operación no se consideran los votos de casillas especiales; en el último corte sí."),
)
COLUMN_DOC = (
    ("CLAVE_CASILLA", "Clave única de casilla: ID_ENTIDAD (2 dígitos), SECCION (4), TIPO_CASILLA (1), ID_CASILLA (2) y EXT_CONTIGUA (2). Guion para Actas fuera de catálogo."),
    ("CLAVE_ACTA", "CLAVE_CASILLA seguida de TIPO_ACTA. Guion para Actas fuera de catálogo."),
    ("ID_ENTIDAD", "Identificador de la entidad federativa."),
    ("ENTIDAD", "Nombre de la entidad federativa."),
    ("ID_DISTRITO_LOCAL", "Número del distrito electoral local."),
    ("DISTRITO_LOCAL", "Nombre de la cabecera del distrito electoral local."),
    ("ID_MUNICIPIO", "Número del municipio."),
    ("MUNICIPIO", "Nombre del municipio."),
    ("SECCION", "Clave de la sección electoral."),
    ("ID_CASILLA", "Número identificador de la casilla."),
    ("TIPO_CASILLA", "B Básica, C Contigua, E Extraordinaria, S Especial, M Voto en el extranjero, A Voto anticipado, P Prisión preventiva."),
    ("EXT_CONTIGUA", "Número de casilla contigua a una extraordinaria."),
    ("UBICACION_CASILLA", "1 urbana, 2 no urbana, 3 Acta fuera de catálogo."),
    ("TIPO_ACTA", "Tipo de Acta; coincide con el número de Acta impreso."),
    ("TOTAL_BOLETAS_SOBRANTES", "Total de boletas no usadas y canceladas."),
    ("TOTAL_PERSONAS_VOTARON", "Total de personas que votaron."),
    ("TOTAL_REP_PARTIDO_CI_VOTARON", "Total de representantes de partidos y candidaturas independientes que votaron en la casilla."),
    ("TOTAL_VOTOS_SACADOS", "Total de votos sacados de la urna."),
)
TAIL_DOC = (
    ("TOTAL_VOTOS_ASENTADO", "Total de votos asentado en el Acta PREP."),
    ("TOTAL_VOTOS_CALCULADO", "Suma de los votos asentados para partidos, combinaciones de coalición o candidatura común, candidaturas independientes, candidaturas no registradas y votos nulos, calculada por el sistema. Ilegible y Sin dato cuentan como cero."),
    ("LISTA_NOMINAL", "Ciudadanas y ciudadanos con derecho a votar en la casilla."),
    ("REPRESENTANTES_PP_CI", "Representantes de partidos y candidaturas independientes acreditados (precargado)."),
    ("OBSERVACIONES", "Ilegible, Sin dato, Excede Lista Nominal, Todos los campos ilegibles, Todos los campos vacíos, Sin acta(n) con n: 1 paquete no entregado, 2 casilla no instalada, 3 sin sobre; Fuera de Catálogo. Varias leyendas se muestran juntas."),
    ("CONTABILIZADA", "0 no contabilizada, 1 contabilizada, 2 fuera de catálogo. Si no se contabiliza, la razón aparece en OBSERVACIONES."),
    ("MECANISMOS_TRASLADO", "D dispositivo de apoyo, F centro de recepción y traslado fijo, I itinerante; vacío si no aplica."),
    ("CODIGO_INTEGRIDAD", "SHA-256 de la imagen del Acta PREP digitalizada: cualquier cambio a la imagen cambia este código. Puede comprobarse descargando la imagen y calculando su SHA-256."),
    ("FECHA_HORA_ACOPIO", "Fecha y hora de recepción del Acta PREP (dd/mm/aaaa hh:mm:ss, hora local de la entidad)."),
    ("FECHA_HORA_CAPTURA", "Fecha y hora de captura del Acta PREP."),
    ("FECHA_HORA_VERIFICACION", "Fecha y hora de verificación del Acta en el sistema."),
    ("ORIGEN", "CASILLA: digitalizada desde la casilla; CATD: digitalizada en el Centro de Acopio y Transmisión de Datos."),
    ("DIGITALIZACION", "MOVIL: aplicativo para dispositivos móviles; ESCANER: escáner."),
    ("TIPO_DOCUMENTO", "Acta PREP, Copia PE, Acta Consejo u otra copia del Acta."),
    ("COTEJADA", "1 cotejada y aceptada, 2 cotejada después de modificada, 3 cotejada sin aceptar, 0 o guion sin cotejo."),
)


def _column_doc(proceso: Proceso) -> list[tuple[str, str]]:
    """The columns of the database: INE's federal layout (distrito federal, no municipio) for a
    national proceso."""
    if not proceso.nacional:
        return list(COLUMN_DOC)
    out = []
    for name, text in COLUMN_DOC:
        if name in ("ID_MUNICIPIO", "MUNICIPIO"):
            continue
        if name.endswith("DISTRITO_LOCAL"):
            name = name.replace("LOCAL", "FEDERAL")
            text = text.replace("local", "federal")
        out.append((name, text))
    return out


def _zone(minutes: int) -> str:
    """The election's UTC offset as the cut's date line writes it: ``UTC-6``, ``UTC-5``."""
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def drill_notice(ejercicio: str) -> str | None:
    """What a drill's or test's database says of itself (None for the jornada): its data are
    not the election's results. In ASCII, so it also reads as a zip comment anywhere."""
    kind = ejercicio.split("-")[0]
    if kind not in ("simulacro", "prueba"):
        return None
    return (f"{kind.upper()} ({ejercicio}): datos ficticios de un ejercicio de practica del PREP; "
            "no son resultados de la jornada electoral")


def leeme_text(proceso: Proceso, e: Election, ejercicio: str = "jornada") -> str:
    """The LEEME of one election's database; a drill's (``simulacro-N``, ``prueba-N``) opens
    saying so in capitals."""
    profile = proceso.profile
    notice = drill_notice(ejercicio)
    kind = ejercicio.split("-")[0].upper()
    out = [
        *([f"*** {kind}: DATOS FICTICIOS ***",
           f"Esta base de datos es del {ejercicio}, un ejercicio de práctica del PREP: sus cifras "
           "no son resultados de la jornada electoral.", ""] if notice else []),
        f"Programa de Resultados Electorales Preliminares {proceso.year}".strip(),
        f"{proceso.institute} · {proceso.entidad} · {e.titulo}",
        "",
        "A. La descarga contiene el archivo de resultados (CSV), el catálogo de candidaturas (CSV) y "
        "este archivo LÉEME con la descripción de cada columna.",
        f"B. Archivo de resultados: {e.file_stem or e.id}.csv, codificado en UTF-8 con BOM, separado "
        "por comas.",
        "C. Primera sección, encabezado: título de la elección, fecha y hora del corte "
        f"(dd/mm/aaaa hh:mm ({_zone(proceso.utc_offset_minutes)})) y las cifras del corte:",
        "",
    ]
    for i, (name, text) in enumerate(PREAMBLE_DOC, start=1):
        out.append(f"   {i}. {name} - {text}")
    out += ["", "D. Segunda sección: una fila por Acta PREP registrada al corte, con las columnas:", ""]
    n = 0
    for name, text in _column_doc(proceso):
        n += 1
        out.append(f"   {n}. {name} - {text}")
    for c in e.columns:
        n += 1
        if c.kind is ColumnKind.PARTIDO:
            party = proceso.party(c.id)
            what = f"Votos para {party.nombre if party else c.id}."
        elif c.kind in (ColumnKind.COALICION, ColumnKind.COMUN):
            kind = "coalición" if c.kind is ColumnKind.COALICION else "candidatura común"
            what = f"Votos para la combinación {' + '.join(c.partidos)} de la {kind} {c.nombre}."
        elif c.kind is ColumnKind.INDEPENDIENTE:
            what = f"Votos para la {c.nombre.lower()} (guion donde no participa)."
        elif c.kind is ColumnKind.NO_REGISTRADAS:
            what = "Votos para candidaturas no registradas."
        else:
            what = "Votos nulos."
        out.append(f"   {n}. {c.id} - {what}")
    for name, text in TAIL_DOC:
        n += 1
        out.append(f"   {n}. {name} - {text}")
    out += [
        "",
        "E. Catálogo de candidaturas: ID_ENTIDAD, ámbito (distrito o municipio), PARTIDO_CI, "
        "CANDIDATURA_PROPIETARIA y CANDIDATURA_SUPLENTE.",
        "",
        f"F. Reglas de contabilización aplicadas: {profile.name} ({profile.description}).",
        "Los porcentajes se expresan con cuatro decimales, truncados y no redondeados.",
        "",
    ]
    return "\r\n".join(out)
